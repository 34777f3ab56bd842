import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { RedisService } from '../../core/redis/redis.service';
import { PeriodicTask } from '../../core/scheduling/periodic-task';
import { JOIN_LUA, LEAVE_LUA, RESTORE_LUA, SWEEP_LUA } from '../videos/viewers.scripts';

interface ViewersRedis extends Redis {
  softchatViewersJoin(users: string, inst: string, userId: string, field: string): Promise<number>;
  softchatViewersLeave(users: string, inst: string, userId: string, field: string): Promise<number>;
  softchatViewersRestore(users: string, inst: string, userId: string, field: string, n: number): Promise<number>;
  softchatViewersSweep(instances: string, cutoff: number | string, prefix: string, max: number, only: string): Promise<(string | number)[]>;
}

/**
 * Live viewers per battle (distinct users), in Redis and shared by every instance: the same
 * scheme and Lua scripts as live video viewers (src/modules/videos/viewers.scripts.ts), under
 * their own key namespace (`<prefix>:battle-viewers:`). Each instance heartbeats; a dead
 * instance's viewers are removed by another after VIEWERS_TTL_MS. Every change calls `onChange`
 * (the coalesced `battle_update`).
 */
@Injectable()
export class BattleViewersService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('BattleViewers');
  readonly instanceId = randomUUID();
  private readonly redis: ViewersRedis;
  /** This instance's sockets per "<battleId>|<userId>". */
  private readonly local = new Map<string, number>();
  private ticker?: PeriodicTask;
  private closing = false;
  private readonly inflight = new Set<Promise<unknown>>();
  /** Set by the updates service (avoids a constructor cycle). */
  onChange: (battleId: string) => void = () => undefined;

  constructor(
    private readonly redisService: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const client = redisService.client as ViewersRedis;
    // Shared with VideoViewersService: whichever starts first defines the commands.
    const defined = client as unknown as Record<string, unknown>;
    if (!defined.softchatViewersJoin) client.defineCommand('softchatViewersJoin', { numberOfKeys: 2, lua: JOIN_LUA });
    if (!defined.softchatViewersLeave) client.defineCommand('softchatViewersLeave', { numberOfKeys: 2, lua: LEAVE_LUA });
    if (!defined.softchatViewersRestore) client.defineCommand('softchatViewersRestore', { numberOfKeys: 2, lua: RESTORE_LUA });
    if (!defined.softchatViewersSweep) client.defineCommand('softchatViewersSweep', { numberOfKeys: 1, lua: SWEEP_LUA });
    this.redis = client;
  }

  private k(...parts: string[]) {
    return this.redisService.key('battle-viewers', ...parts);
  }

  async onApplicationBootstrap() {
    await this.heartbeat();
    this.ticker = new PeriodicTask(
      'battle viewer heartbeat/sweep',
      this.config.viewers.heartbeatMs,
      async () => {
        await this.heartbeat();
        await this.sweep();
      },
      this.logger,
    );
    this.ticker.start();
  }

  /** Graceful stop: this instance's viewers leave now rather than at heartbeat expiry. */
  async onModuleDestroy() {
    this.closing = true;
    await this.ticker?.stop();
    await Promise.allSettled([...this.inflight]);
    try {
      await this.sweep(this.instanceId);
    } catch (e) {
      this.logger.warn(`battle viewer cleanup on shutdown failed: ${(e as Error).message}`);
    }
  }

  private async heartbeat() {
    const added = await this.redis.zadd(this.k('instances'), Date.now(), this.instanceId);
    if (added === 1 && this.local.size) {
      this.logger.warn('this instance was presumed dead (heartbeat gap); re-registering its battle viewers');
      const battles = new Set<string>();
      for (const [field, n] of this.local) {
        const [battleId, userId] = field.split('|');
        await this.redis.softchatViewersRestore(this.k('users', battleId), this.k('inst', this.instanceId), userId, field, n);
        battles.add(battleId);
      }
      for (const b of battles) this.onChange(b);
    }
  }

  /** Claims dead instances (or, on shutdown, this one) and reports the battles whose count changed. */
  private async sweep(only?: string) {
    for (;;) {
      const out = await this.redis.softchatViewersSweep(
        this.k('instances'),
        only ? '+inf' : Date.now() - this.config.viewers.ttlMs,
        `${this.redisService.prefix}:battle-viewers:`,
        10,
        only ?? '',
      );
      if (!this.closing) for (let i = 0; i < out.length; i += 2) this.onChange(String(out[i]));
      if (only || out.length === 0) return;
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  /** A socket of the user started watching the battle on this instance. Returns the count. */
  join(battleId: string, userId: string): Promise<number> {
    return this.track(
      (async () => {
        const field = `${battleId}|${userId}`;
        this.local.set(field, (this.local.get(field) ?? 0) + 1);
        const count = await this.redis.softchatViewersJoin(this.k('users', battleId), this.k('inst', this.instanceId), userId, field);
        this.onChange(battleId);
        return Number(count);
      })(),
    );
  }

  /** A socket of the user stopped watching (left or disconnected). Returns the count. */
  leave(battleId: string, userId: string): Promise<number> {
    return this.track(
      (async () => {
        const field = `${battleId}|${userId}`;
        const n = (this.local.get(field) ?? 1) - 1;
        if (n > 0) this.local.set(field, n);
        else this.local.delete(field);
        if (this.closing) return this.count(battleId);
        const count = await this.redis.softchatViewersLeave(this.k('users', battleId), this.k('inst', this.instanceId), userId, field);
        this.onChange(battleId);
        return Number(count);
      })(),
    );
  }

  count(battleId: string): Promise<number> {
    return this.redis.hlen(this.k('users', battleId));
  }

  /** Counts of many battles in one round trip. */
  async counts(battleIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!battleIds.length) return out;
    const pipe = this.redis.pipeline();
    for (const id of battleIds) pipe.hlen(this.k('users', id));
    const res = (await pipe.exec()) ?? [];
    battleIds.forEach((id, i) => {
      const [err, n] = res[i] ?? [];
      if (err) throw err;
      out.set(id, Number(n ?? 0));
    });
    return out;
  }
}
