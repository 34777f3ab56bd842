import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { DomainError } from '../../core/http/domain-error';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { TradingService } from './trading.service';

interface ExpireJob {
  orderId: string;
}

/**
 * Expiry of GTD orders: a delayed BullMQ job per resting GTD order (deterministic id, so
 * scheduling twice is harmless). The database is the truth: at start every resting GTD order is
 * scheduled again (Redis may have lost its job), and the handler re-reads the order and does
 * nothing when it is no longer resting or not yet due.
 */
@Injectable()
export class TradingJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger('TradingJobs');

  constructor(
    private readonly trading: TradingService,
    private readonly jobs: JobsService,
    @InjectDataSource() private readonly ds: DataSource,
  ) {
    this.trading.onGtdRested = (orderId, expiresAt) => {
      this.schedule(orderId, expiresAt).catch((e) => this.logger.warn(`could not schedule expiry of ${orderId}: ${(e as Error).message}`));
    };
  }

  async onApplicationBootstrap() {
    const rows: { id: string; expires_at: Date }[] = await this.ds.query(
      `SELECT id, expires_at FROM trading_orders WHERE status IN ('open','partially_filled') AND expires_at IS NOT NULL`,
    );
    for (const r of rows) await this.schedule(r.id, new Date(r.expires_at));
  }

  schedule(orderId: string, expiresAt: Date, suffix = '') {
    return this.jobs.add('trading', 'expire-order', { orderId } satisfies ExpireJob, {
      jobId: `expire-${orderId}-${expiresAt.getTime()}${suffix}`,
      delay: Math.max(0, expiresAt.getTime() - Date.now()),
    });
  }

  @JobHandler('trading', 'expire-order')
  async expire(job: Job<ExpireJob>) {
    try {
      const order = await this.trading.cancel(null, job.data.orderId, 'expired');
      return { expired: true, status: order.status };
    } catch (e) {
      // Fired a little early (timers are not exact): try again at the due time.
      if (e instanceof DomainError && e.details?.notYetDue && typeof e.details.expiresAt === 'string') {
        await this.schedule(job.data.orderId, new Date(e.details.expiresAt), `-retry${job.attemptsMade}-${Date.now()}`);
        return { expired: false, reason: 'not yet due: rescheduled' };
      }
      // Already filled or cancelled: nothing to do.
      if (e instanceof DomainError && (e.code === 'CONFLICT' || e.code === 'NOT_FOUND')) return { expired: false, reason: e.message };
      throw e;
    }
  }
}
