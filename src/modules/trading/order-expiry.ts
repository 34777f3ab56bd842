import { Injectable, Logger } from '@nestjs/common';
import { JobsService } from '../../core/queue/jobs.service';

export interface ExpireJob {
  orderId: string;
}

/**
 * Schedules the expiry of a resting GTD order: a delayed BullMQ job per order (deterministic id,
 * so scheduling twice is harmless). Used by TradingService when a GTD order rests and by
 * TradingJobs (at start, and when a job fired early); the handler lives in TradingJobs.
 */
@Injectable()
export class OrderExpiry {
  private readonly logger = new Logger('TradingJobs');

  constructor(private readonly jobs: JobsService) {}

  schedule(orderId: string, expiresAt: Date, suffix = '') {
    return this.jobs.add('trading', 'expire-order', { orderId } satisfies ExpireJob, {
      jobId: `expire-${orderId}-${expiresAt.getTime()}${suffix}`,
      delay: Math.max(0, expiresAt.getTime() - Date.now()),
    });
  }

  /** After commit: schedules, and only logs a failure (the order stays; the start-up sweep schedules it again). */
  scheduleAfterCommit(orderId: string, expiresAt: Date) {
    this.schedule(orderId, expiresAt).catch((e) => this.logger.warn(`could not schedule expiry of ${orderId}: ${(e as Error).message}`));
  }
}
