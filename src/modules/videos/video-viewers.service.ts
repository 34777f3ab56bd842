import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { Announcer } from '../../core/realtime/announce';
import { LiveViewers } from '../../core/realtime/live-viewers';
import { RedisService } from '../../core/redis/redis.service';
import { ViewerCountUpdated, videoRoom } from './videos.events';

/** The contract's rate: at most one `viewer_count_update` per video per second. */
export const ANNOUNCE_WINDOW_MS = 1000;

/**
 * Live viewers per video (distinct users), in Redis and shared by every instance
 * (src/core/realtime/live-viewers.ts, key namespace `<prefix>:viewers:`). Changes are announced
 * on Socket.IO (`viewer_count_update` to the video's room) and GraphQL, at most once a second
 * per video across all instances, and the last change of a burst is always announced.
 */
@Injectable()
export class VideoViewersService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('VideoViewers');
  private readonly viewers: LiveViewers;
  /** Trailing re-checks scheduled per video. */
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    redisService: RedisService,
    private readonly announcer: Announcer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.viewers = new LiveViewers(redisService, {
      namespace: 'viewers',
      label: 'viewer',
      heartbeatMs: config.viewers.heartbeatMs,
      ttlMs: config.viewers.ttlMs,
      logger: this.logger,
      onChange: (videoId) => this.announce(videoId),
    });
  }

  get instanceId(): string {
    return this.viewers.instanceId;
  }

  onApplicationBootstrap() {
    return this.viewers.start();
  }

  /** Graceful stop: this instance's viewers leave now rather than at heartbeat expiry. */
  onModuleDestroy() {
    return this.viewers.stop(() => {
      for (const t of this.pending.values()) clearTimeout(t);
      this.pending.clear();
    });
  }

  /** A socket of the user started watching the video on this instance. Returns the count. */
  join(videoId: string, userId: string): Promise<number> {
    return this.viewers.join(videoId, userId);
  }

  /** A socket of the user stopped watching (left or disconnected). Returns the count. */
  leave(videoId: string, userId: string): Promise<number> {
    return this.viewers.leave(videoId, userId);
  }

  count(videoId: string): Promise<number> {
    return this.viewers.count(videoId);
  }

  /** Counts of many videos in one round trip. */
  counts(videoIds: string[]): Promise<Map<string, number>> {
    return this.viewers.counts(videoIds);
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
    const [emit, count, retryAfterMs] = await this.viewers.redis.softchatViewersThrottle(
      this.viewers.key('throttle', videoId),
      this.viewers.key('users', videoId),
      this.viewers.key('announced', videoId),
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
    if (this.viewers.closing || this.pending.has(videoId)) return;
    const t = setTimeout(() => {
      this.pending.delete(videoId);
      void this.tryAnnounce(videoId).catch((e) => this.logger.warn(`viewer count announce failed: ${(e as Error).message}`));
    }, ms);
    t.unref();
    this.pending.set(videoId, t);
  }
}
