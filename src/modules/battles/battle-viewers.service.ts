import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { LiveViewers } from '../../core/realtime/live-viewers';
import { RedisService } from '../../core/redis/redis.service';

/**
 * Live viewers per battle (distinct users), in Redis and shared by every instance: the same
 * scheme as live video viewers (src/core/realtime/live-viewers.ts), under their own key
 * namespace (`<prefix>:battle-viewers:`). Every change calls `onChange` (the coalesced
 * `battle_update`); the shutdown sweep does not.
 */
@Injectable()
export class BattleViewersService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly viewers: LiveViewers;
  /** Set by the updates service (avoids a constructor cycle). */
  onChange: (battleId: string) => void = () => undefined;

  constructor(redisService: RedisService, @Inject(APP_CONFIG) config: AppConfig) {
    this.viewers = new LiveViewers(redisService, {
      namespace: 'battle-viewers',
      label: 'battle viewer',
      heartbeatMs: config.viewers.heartbeatMs,
      ttlMs: config.viewers.ttlMs,
      logger: new Logger('BattleViewers'),
      onChange: (battleId) => this.onChange(battleId),
      quietOnShutdown: true,
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
    return this.viewers.stop();
  }

  /** A socket of the user started watching the battle on this instance. Returns the count. */
  join(battleId: string, userId: string): Promise<number> {
    return this.viewers.join(battleId, userId);
  }

  /** A socket of the user stopped watching (left or disconnected). Returns the count. */
  leave(battleId: string, userId: string): Promise<number> {
    return this.viewers.leave(battleId, userId);
  }

  count(battleId: string): Promise<number> {
    return this.viewers.count(battleId);
  }

  /** Counts of many battles in one round trip. */
  counts(battleIds: string[]): Promise<Map<string, number>> {
    return this.viewers.counts(battleIds);
  }
}
