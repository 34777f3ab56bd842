import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { RedisService } from '../../core/redis/redis.service';
import { StatsService } from './stats.service';

/** GraphQL topics. */
export const statsTopic = (creatorId: string) => `creator:stats:${creatorId}`;
export const tipsTopic = (creatorId: string) => `creator:tips:${creatorId}`;

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
 *    every change after schedules the next one.
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
    private readonly pubsub: GqlPubSub,
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
    const window = this.redis.key('creator', 'stats-window', creatorId);
    const pending = this.redis.key('creator', 'stats-pending', creatorId);
    const opts = { removeOnComplete: true, removeOnFail: 100, attempts: 2 };
    try {
      if ((await this.redis.client.set(window, '1', 'PX', this.intervalMs, 'NX')) === 'OK') {
        await this.jobs.add('creator', 'publish-stats', { creatorId, trailing: false } satisfies PublishJob, opts);
        return;
      }
      // The pending flag outlives a lost job only briefly, so a Redis hiccup cannot mute a creator.
      if ((await this.redis.client.set(pending, '1', 'PX', this.intervalMs * 10, 'NX')) !== 'OK') return;
      const ttl = await this.redis.client.pttl(window);
      await this.jobs.add('creator', 'publish-stats', { creatorId, trailing: true } satisfies PublishJob, { ...opts, delay: Math.max(ttl, 0) });
    } catch (e) {
      this.logger.warn(`could not schedule stats for ${creatorId}: ${(e as Error).message}`);
    }
  }

  @JobHandler('creator', 'publish-stats')
  async publishJob(job: Job<PublishJob>): Promise<void> {
    const { creatorId, trailing } = job.data;
    if (trailing) {
      await this.redis.client.set(this.redis.key('creator', 'stats-window', creatorId), '1', 'PX', this.intervalMs);
      await this.redis.client.del(this.redis.key('creator', 'stats-pending', creatorId));
    }
    await this.stats.achieve(creatorId);
    const stats = await this.stats.compute(creatorId);
    await this.pubsub.publish(statsTopic(creatorId), { creatorStatsUpdated: stats });
  }
}
