import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { PaymentsService } from './payments.service';

export const RECONCILE_SCHEDULER_ID = 'payments-reconcile';

/**
 * Reconciliation (webhooks get lost): a BullMQ job scheduler runs `reconcile` every
 * PAYMENTS_RECONCILE_INTERVAL_SECONDS on one worker at a time; it asks providers about
 * payments pending longer than PAYMENTS_RECONCILE_AFTER_MINUTES and settles them like a
 * webhook, and expires checkouts past their expiry. `settle` does the same for one payment
 * (queued when a provider needs a follow-up, e.g. PayPal's capture of an approved order).
 */
@Injectable()
export class PaymentsJobs implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Payments');
  private startup: Promise<unknown> | null = null;

  constructor(
    private readonly payments: PaymentsService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap() {
    const every = this.config.payments.reconcileIntervalSeconds * 1000;
    this.startup = this.jobs
      .queue('payments')
      .upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every }, { name: 'reconcile', data: {} })
      .catch((e) => this.logger.warn(`could not schedule payment reconciliation: ${(e as Error).message}`));
  }

  async beforeApplicationShutdown() {
    await this.startup;
  }

  @JobHandler('payments', 'reconcile')
  reconcile() {
    return this.payments.reconcile();
  }

  @JobHandler('payments', 'settle')
  settle(job: Job<{ paymentId: string }>) {
    return this.payments.reconcileOne(job.data.paymentId);
  }
}
