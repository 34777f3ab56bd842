import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { BattleEndService } from './battle-end.service';

/** How often the periodic sweep looks for live battles past their end (a lost job). */
const SWEEP_EVERY_MS = 30_000;

interface EndJob {
  battleId: string;
}

/**
 * Battle ends. Each live battle has a BullMQ delayed job at `endsAt` with a deterministic id
 * (`battle-end-<battleId>`), so scheduling twice schedules once. The database is the truth: at
 * start a sweep ends every live battle whose time passed while no worker ran (the app was down,
 * or Redis lost its jobs) and re-schedules the others; a periodic sweep (a BullMQ job scheduler,
 * run by one worker at a time) catches what slips through later. Ending is idempotent (see
 * BattleEndService), so a job, a sweep and another instance may race harmlessly.
 */
@Injectable()
export class BattlesJobs implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Battles');
  private startup: Promise<unknown> | null = null;

  constructor(
    private readonly ends: BattleEndService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap() {
    this.startup = (async () => {
      await this.jobs.queue('battles').upsertJobScheduler('battles-sweep', { every: SWEEP_EVERY_MS }, { name: 'sweep', data: {} });
      if (!this.config.queuesEnabled) return;
      const r = await this.ends.sweep({ reschedule: true });
      if (r.ended) this.logger.log(`Start-up sweep: ${r.ended} battles ended that came due while no worker ran`);
    })().catch((e) => this.logger.warn(`battles start-up sweep failed: ${(e as Error).message}`));
  }

  /** Lets the start-up sweep finish before the database and Redis connections close. */
  async beforeApplicationShutdown() {
    await this.startup;
  }

  /** Awaits the start-up sweep (tests and tools). */
  ready(): Promise<unknown> {
    return this.startup ?? Promise.resolve();
  }

  @JobHandler('battles', 'end')
  async end(job: Job<EndJob>) {
    const r = await this.ends.end(job.data.battleId);
    if (r.notDueMs && r.notDueMs > 0 && job.token) {
      // Fired before `endsAt` by the database clock (clock skew): wait the rest.
      await job.moveToDelayed(Date.now() + r.notDueMs + 50, job.token);
      throw new DelayedError();
    }
    return r;
  }

  @JobHandler('battles', 'sweep')
  sweep() {
    return this.ends.sweep({ reschedule: false });
  }
}
