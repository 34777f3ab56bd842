import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { Announcer } from '../../core/realtime/announce';
import { RedisService } from '../../core/redis/redis.service';
import { CreatorStatsUpdated } from './creator.events';
import { StatsService } from './stats.service';

interface PublishJob {
  creatorId: string;
  trailing: boolean;
}

/**
 * `creatorStatsUpdated`, throttled per creator across every instance: at most one payload per
 * CREATOR_STATS_INTERVAL_MS (default 1 s) however busy the creator is, and the last change is
 * always published.
 *
 * Two Redis keys per creator, shared by all instances:
 *  - `window` (SET NX PX interval): the first change of a quiet creator takes it and publishes
 *    at once (a job with no delay: the leading edge);
 *  - `pending` (SET NX): later changes in the window schedule ONE delayed job at the window's
 *    end (the trailing edge). That job starts a new window, clears `pending` and only then
 *    reads the figures, so every change made before it cleared `pending` is in its payload and
 *    every change after schedules the next one. While a trailing job is pending the window is
 *    held open, and a job that finds the last payload less than an interval ago (it ran late)
 *    waits for the rest of the interval as the trailing job.
 * The payload is computed once, by whichever instance's worker runs the job, and reaches
 * subscribers on every instance through the Redis PubSub. Milestones are checked in the same
 * job, so watching (which has no other trigger) crosses them too.
 */
@Injectable()
export class CreatorLive {
  private readonly logger = new Logger('CreatorLive');
  private readonly intervalMs: number;

  constructor(
    private readonly stats: StatsService,
    private readonly jobs: JobsService,
    private readonly redis: RedisService,
    private readonly announcer: Announcer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.intervalMs = config.creator.statsIntervalMs;
  }

  /**
   * After a commit that changed a creator's figures: milestones the change crossed are marked
   * at once (exactly once, even when two changes race), then a stats payload is scheduled.
   */
  async changed(creatorId: string, opts: { milestones?: boolean } = {}): Promise<void> {
    try {
      if (opts.milestones !== false) await this.stats.achieve(creatorId);
    } catch (e) {
      this.logger.warn(`milestone check failed for ${creatorId}: ${(e as Error).message}`);
    }
    await this.touch(creatorId);
  }

  /** Schedules a stats payload for the creator, throttled as described above. */
  async touch(creatorId: string): Promise<void> {
    const { window, pending } = this.keys(creatorId);
    const redis = this.redis.client;
    try {
      if ((await redis.set(window, '1', 'PX', this.intervalMs, 'NX')) === 'OK') {
        await this.schedule(creatorId, false, 0);
        return;
      }
      // The pending flag outlives a lost job only briefly, so a Redis hiccup cannot mute a creator.
      if ((await redis.set(pending, '1', 'PX', this.intervalMs * 10, 'NX')) !== 'OK') return;
      let ttl = await redis.pttl(window);
      if (ttl < 0) {
        // The window ended in between: the trailing job runs now and holds the window meanwhile.
        await redis.set(window, '1', 'PX', this.intervalMs * 2);
        ttl = 0;
      } else {
        // Hold the window until the trailing job opens the next one (no leading payload in between).
        await redis.pexpire(window, ttl + this.intervalMs);
      }
      await this.schedule(creatorId, true, ttl);
    } catch (e) {
      this.logger.warn(`could not schedule stats for ${creatorId}: ${(e as Error).message}`);
    }
  }

  private keys(creatorId: string) {
    return {
      window: this.redis.key('creator', 'stats-window', creatorId),
      pending: this.redis.key('creator', 'stats-pending', creatorId),
      last: this.redis.key('creator', 'stats-last', creatorId),
    };
  }

  private schedule(creatorId: string, trailing: boolean, delay: number) {
    return this.jobs.add('creator', 'publish-stats', { creatorId, trailing } satisfies PublishJob, { removeOnComplete: true, removeOnFail: 100, attempts: 2, delay });
  }

  @JobHandler('creator', 'publish-stats')
  async publishJob(job: Job<PublishJob>): Promise<void> {
    const { creatorId, trailing } = job.data;
    const { window, pending, last } = this.keys(creatorId);
    const redis = this.redis.client;
    // Jobs that run late (a busy worker) must still keep a full interval after the last payload.
    const since = Date.now() - Number((await redis.get(last)) ?? 0);
    if (since < this.intervalMs) {
      // A trailing job waits; a leading one becomes the trailing one (unless one is pending already: it will carry this change).
      if (trailing || (await redis.set(pending, '1', 'PX', this.intervalMs * 10, 'NX')) === 'OK') {
        await redis.pexpire(pending, this.intervalMs * 10);
        await redis.pexpire(window, this.intervalMs * 2);
        await this.schedule(creatorId, true, this.intervalMs - since);
      }
      return;
    }
    if (trailing) {
      await redis.set(window, '1', 'PX', this.intervalMs);
      await redis.del(pending);
    }
    // The payload is stamped with this start time: consecutive stamps are an interval apart.
    const startedAt = Date.now();
    await redis.set(last, String(startedAt), 'PX', this.intervalMs * 10);
    await this.stats.achieve(creatorId);
    const stats = await this.stats.compute(creatorId, startedAt);
    await this.announcer.announce(CreatorStatsUpdated, stats, { none: true });
  }
}
