import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicTask } from '../../core/scheduling/periodic-task';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { Announcer } from '../../core/realtime/announce';
import { RedisService } from '../../core/redis/redis.service';
import { ViewerCountUpdated, videoRoom } from './videos.events';
import { JOIN_LUA, LEAVE_LUA, RESTORE_LUA, SWEEP_LUA, THROTTLE_LUA } from './viewers.scripts';

interface ViewersRedis extends Redis {
  softchatViewersJoin(users: string, inst: string, userId: string, field: string): Promise<number>;
  softchatViewersLeave(users: string, inst: string, userId: string, field: string): Promise<number>;
  softchatViewersRestore(users: string, inst: string, userId: string, field: string, n: number): Promise<number>;
  softchatViewersSweep(instances: string, cutoff: number | string, prefix: string, max: number, only: string): Promise<(string | number)[]>;
  softchatViewersThrottle(throttle: string, users: string, announced: string, windowMs: number): Promise<[number, number, number]>;
}

/** The contract's rate: at most one `viewer_count_update` per video per second. */
export const ANNOUNCE_WINDOW_MS = 1000;

/**
 * Live viewers per video (distinct users), in Redis and shared by every instance. Each
 * instance heartbeats; when one stops (crash, kill -9), another claims it after VIEWERS_TTL_MS
 * and removes its viewers, so counts never stay inflated. Changes are announced on Socket.IO
 * (`viewer_count_update` to the video's room) and GraphQL, at most once a second per video
 * across all instances, and the last change of a burst is always announced.
 */
@Injectable()
export class VideoViewersService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('VideoViewers');
  readonly instanceId = randomUUID();
  private readonly redis: ViewersRedis;
  /** This instance's sockets per "<videoId>|<userId>". */
  private readonly local = new Map<string, number>();
  /** Trailing re-checks scheduled per video. */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private ticker?: PeriodicTask;
  private closing = false;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly redisService: RedisService,
    private readonly announcer: Announcer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const client = redisService.client as ViewersRedis;
    // Each command on its own: battles' viewer counts share the shared client and define some of
    // these too, so "one is defined" does not mean "all are".
    const defined = client as unknown as Record<string, unknown>;
    const define = (name: string, numberOfKeys: number, lua: string) => {
      if (!defined[name]) client.defineCommand(name, { numberOfKeys, lua });
    };
    define('softchatViewersJoin', 2, JOIN_LUA);
    define('softchatViewersLeave', 2, LEAVE_LUA);
    define('softchatViewersRestore', 2, RESTORE_LUA);
    define('softchatViewersSweep', 1, SWEEP_LUA);
    define('softchatViewersThrottle', 3, THROTTLE_LUA);
    this.redis = client;
  }

  private k(...parts: string[]) {
    return this.redisService.key('viewers', ...parts);
  }

  async onApplicationBootstrap() {
    await this.heartbeat();
    this.ticker = new PeriodicTask('viewer heartbeat/sweep', this.config.viewers.heartbeatMs, async () => {
      await this.heartbeat();
      await this.sweep();
    }, this.logger);
    this.ticker.start();
  }

  /** Graceful stop: this instance's viewers leave now rather than at heartbeat expiry. */
  async onModuleDestroy() {
    this.closing = true;
    await this.ticker?.stop();
    await Promise.allSettled([...this.inflight]);
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    try {
      await this.sweep(this.instanceId);
    } catch (e) {
      this.logger.warn(`viewer cleanup on shutdown failed: ${(e as Error).message}`);
    }
  }

  private async heartbeat() {
    const added = await this.redis.zadd(this.k('instances'), Date.now(), this.instanceId);
    if (added === 1 && this.local.size) {
      this.logger.warn('this instance was presumed dead (heartbeat gap); re-registering its viewers');
      const videos = new Set<string>();
      for (const [field, n] of this.local) {
        const [videoId, userId] = field.split('|');
        await this.redis.softchatViewersRestore(this.k('users', videoId), this.k('inst', this.instanceId), userId, field, n);
        videos.add(videoId);
      }
      for (const v of videos) this.announce(v);
    }
  }

  /** Claims dead instances (or, on shutdown, this one) and announces the counts that changed. */
  private async sweep(only?: string) {
    for (;;) {
      const out = await this.redis.softchatViewersSweep(
        this.k('instances'),
        only ? '+inf' : Date.now() - this.config.viewers.ttlMs,
        `${this.redisService.prefix}:viewers:`,
        10,
        only ?? '',
      );
      for (let i = 0; i < out.length; i += 2) this.announce(String(out[i]));
      if (only || out.length === 0) return;
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  /** A socket of the user started watching the video on this instance. Returns the count. */
  join(videoId: string, userId: string): Promise<number> {
    return this.track(
      (async () => {
        const field = `${videoId}|${userId}`;
        this.local.set(field, (this.local.get(field) ?? 0) + 1);
        const count = await this.redis.softchatViewersJoin(this.k('users', videoId), this.k('inst', this.instanceId), userId, field);
        this.announce(videoId);
        return Number(count);
      })(),
    );
  }

  /** A socket of the user stopped watching (left or disconnected). Returns the count. */
  leave(videoId: string, userId: string): Promise<number> {
    return this.track(
      (async () => {
        const field = `${videoId}|${userId}`;
        const n = (this.local.get(field) ?? 1) - 1;
        if (n > 0) this.local.set(field, n);
        else this.local.delete(field);
        // During shutdown the instance sweep removes all of this instance's viewers at once.
        if (this.closing) return this.count(videoId);
        const count = await this.redis.softchatViewersLeave(this.k('users', videoId), this.k('inst', this.instanceId), userId, field);
        this.announce(videoId);
        return Number(count);
      })(),
    );
  }

  async count(videoId: string): Promise<number> {
    return this.redis.hlen(this.k('users', videoId));
  }

  /** Counts of many videos in one round trip. */
  async counts(videoIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!videoIds.length) return out;
    const pipe = this.redis.pipeline();
    for (const id of videoIds) pipe.hlen(this.k('users', id));
    const res = (await pipe.exec()) ?? [];
    videoIds.forEach((id, i) => {
      const [err, n] = res[i] ?? [];
      if (err) throw err;
      out.set(id, Number(n ?? 0));
    });
    return out;
  }

  /**
   * Announces the video's count if it changed and no instance announced it in the last
   * second; otherwise re-checks when the window ends (so the final count of a burst is sent).
   */
  announce(videoId: string): void {
    if (this.pending.has(videoId)) return;
    void this.tryAnnounce(videoId).catch((e) => this.logger.warn(`viewer count announce failed: ${(e as Error).message}`));
  }

  private async tryAnnounce(videoId: string): Promise<void> {
    const [emit, count, retryAfterMs] = await this.redis.softchatViewersThrottle(
      this.k('throttle', videoId),
      this.k('users', videoId),
      this.k('announced', videoId),
      ANNOUNCE_WINDOW_MS,
    );
    if (emit === 1) {
      void this.announcer.announce(ViewerCountUpdated, { videoId, count: Number(count) }, { room: videoRoom(videoId) });
      // Anything that changes within the window is picked up by the trailing check.
      this.schedule(videoId, ANNOUNCE_WINDOW_MS + 5);
    } else if (retryAfterMs > 0) {
      this.schedule(videoId, Number(retryAfterMs) + 5);
    }
  }

  private schedule(videoId: string, ms: number) {
    if (this.closing || this.pending.has(videoId)) return;
    const t = setTimeout(() => {
      this.pending.delete(videoId);
      void this.tryAnnounce(videoId).catch((e) => this.logger.warn(`viewer count announce failed: ${(e as Error).message}`));
    }, ms);
    t.unref();
    this.pending.set(videoId, t);
  }
}
