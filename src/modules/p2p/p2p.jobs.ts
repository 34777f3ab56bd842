import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { EscrowService } from './escrow.service';

interface WindowJob {
  escrowId: string;
}

/**
 * The escrow windows. Each open window is a BullMQ delayed job with a deterministic id
 * (`p2p-pay-<escrowId>`, `p2p-release-<escrowId>`), so scheduling twice schedules once; the
 * handlers re-read the escrow and do nothing when it has moved on. The database is the truth:
 * at start a sweep applies every window that ended while no worker ran (the app was down, or
 * Redis lost its jobs) and re-schedules the open ones; a periodic sweep (a BullMQ job scheduler,
 * run by one worker at a time) catches anything that slipped through later.
 */
@Injectable()
export class P2PJobs implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('P2P');
  private startup: Promise<unknown> | null = null;

  constructor(
    private readonly escrows: EscrowService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap() {
    const every = this.config.p2p.sweepIntervalSeconds * 1000;
    this.startup = (async () => {
      await this.jobs.queue('p2p').upsertJobScheduler('p2p-sweep', { every }, { name: 'sweep', data: {} });
      if (!this.config.queuesEnabled) return;
      const r = await this.escrows.sweep({ reschedule: true });
      if (r.cancelled || r.disputed) this.logger.log(`Start-up sweep: ${r.cancelled} escrows cancelled, ${r.disputed} disputed after their windows ended`);
    })().catch((e) => this.logger.warn(`P2P start-up sweep failed: ${(e as Error).message}`));
  }

  /** Lets the start-up sweep finish before the database and Redis connections close. */
  async beforeApplicationShutdown() {
    await this.startup;
  }

  /** Awaits the start-up sweep (tests and tools). */
  ready(): Promise<unknown> {
    return this.startup ?? Promise.resolve();
  }

  @JobHandler('p2p', 'payment-window')
  async paymentWindow(job: Job<WindowJob>) {
    const r = await this.escrows.expirePayment(job.data.escrowId);
    return this.rescheduleIfEarly(job, r);
  }

  @JobHandler('p2p', 'release-window')
  async releaseWindow(job: Job<WindowJob>) {
    const r = await this.escrows.expireRelease(job.data.escrowId);
    return this.rescheduleIfEarly(job, r);
  }

  @JobHandler('p2p', 'sweep')
  sweep() {
    return this.escrows.sweep({ reschedule: false });
  }

  /** A job that fired before the deadline (clock skew between app, Redis and database) waits the rest. */
  private async rescheduleIfEarly(job: Job<WindowJob>, r: { done: boolean; notDueMs?: number }) {
    if (r.notDueMs && r.notDueMs > 0 && job.token) {
      await job.moveToDelayed(Date.now() + r.notDueMs + 50, job.token);
      throw new DelayedError();
    }
    return r;
  }
}
