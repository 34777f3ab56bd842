import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { DomainError } from '../../core/http/domain-error';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { ExpireJob, OrderExpiry } from './order-expiry';
import { TradingRepository } from './trading.repository';
import { TradingService } from './trading.service';

/**
 * Expiry of GTD orders (scheduled by OrderExpiry). The database is the truth: at start every
 * resting GTD order is scheduled again (Redis may have lost its job), and the handler re-reads
 * the order and does nothing when it is no longer resting or not yet due.
 */
@Injectable()
export class TradingJobs implements OnApplicationBootstrap {
  constructor(
    private readonly trading: TradingService,
    private readonly expiry: OrderExpiry,
    private readonly repo: TradingRepository,
  ) {}

  async onApplicationBootstrap() {
    const rows = await this.repo.restingWithExpiry();
    for (const r of rows) await this.expiry.schedule(r.id, new Date(r.expires_at));
  }

  @JobHandler('trading', 'expire-order')
  async expire(job: Job<ExpireJob>) {
    try {
      const order = await this.trading.cancel(null, job.data.orderId, 'expired');
      return { expired: true, status: order.status };
    } catch (e) {
      // Fired a little early (timers are not exact): try again at the due time.
      if (e instanceof DomainError && e.details?.notYetDue && typeof e.details.expiresAt === 'string') {
        await this.expiry.schedule(job.data.orderId, new Date(e.details.expiresAt), `-retry${job.attemptsMade}-${Date.now()}`);
        return { expired: false, reason: 'not yet due: rescheduled' };
      }
      // Already filled or cancelled: nothing to do.
      if (e instanceof DomainError && (e.code === 'CONFLICT' || e.code === 'NOT_FOUND')) return { expired: false, reason: e.message };
      throw e;
    }
  }
}
