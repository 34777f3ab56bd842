import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { RedisService } from '../redis/redis.service';
import { PeriodicTask } from '../scheduling/periodic-task';
import { JOIN_LUA, LEAVE_LUA, RESTORE_LUA, SWEEP_LUA, THROTTLE_LUA } from './live-viewers.scripts';

export interface ViewersRedis extends Redis {
  softchatViewersJoin(users: string, inst: string, userId: string, field: string): Promise<number>;
  softchatViewersLeave(users: string, inst: string, userId: string, field: string): Promise<number>;
  softchatViewersRestore(users: string, inst: string, userId: string, field: string, n: number): Promise<number>;
  softchatViewersSweep(instances: string, cutoff: number | string, prefix: string, max: number, only: string): Promise<(string | number)[]>;
  softchatViewersThrottle(throttle: string, users: string, announced: string, windowMs: number): Promise<[number, number, number]>;
}

export interface LiveViewersOptions {
  /** Redis key namespace under the app prefix (`viewers`, `battle-viewers`). */
  namespace: string;
  /** What the log lines call a viewer (`viewer`, `battle viewer`). */
  label: string;
  heartbeatMs: number;
  ttlMs: number;
  logger: Pick<Logger, 'warn'>;
  /** Called with an object's id whenever its count may have changed. */
  onChange: (id: string) => void;
  /** The shutdown sweep of this instance does not call onChange. */
  quietOnShutdown?: boolean;
}

/**
 * Live viewers per object (distinct users), in Redis and shared by every instance (the scheme
 * is in ./live-viewers.scripts.ts). Each instance heartbeats; when one stops (crash, kill -9),
 * another claims it after `ttlMs` and removes its viewers, so counts never stay inflated.
 * Used by the video and battle viewer services, each under its own key namespace.
 */
export class LiveViewers {
  readonly instanceId = randomUUID();
  readonly redis: ViewersRedis;
  /** This instance's sockets per "<id>|<userId>". */
  private readonly local = new Map<string, number>();
  private ticker?: PeriodicTask;
  private closingNow = false;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly redisService: RedisService,
    private readonly opts: LiveViewersOptions,
  ) {
    const client = redisService.client as ViewersRedis;
    // Several instances of this class share the client: define each command once.
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

  get closing(): boolean {
    return this.closingNow;
  }

  key(...parts: string[]): string {
    return this.redisService.key(this.opts.namespace, ...parts);
  }

  async start(): Promise<void> {
    await this.heartbeat();
    this.ticker = new PeriodicTask(
      `${this.opts.label} heartbeat/sweep`,
      this.opts.heartbeatMs,
      async () => {
        await this.heartbeat();
        await this.sweep();
      },
      this.opts.logger,
    );
    this.ticker.start();
  }

  /**
   * Graceful stop: this instance's viewers leave now rather than at heartbeat expiry.
   * `beforeSweep` runs once in-flight joins/leaves have settled.
   */
  async stop(beforeSweep?: () => void): Promise<void> {
    this.closingNow = true;
    await this.ticker?.stop();
    await Promise.allSettled([...this.inflight]);
    beforeSweep?.();
    try {
      await this.sweep(this.instanceId);
    } catch (e) {
      this.opts.logger.warn(`${this.opts.label} cleanup on shutdown failed: ${(e as Error).message}`);
    }
  }

  private async heartbeat() {
    const added = await this.redis.zadd(this.key('instances'), Date.now(), this.instanceId);
    if (added === 1 && this.local.size) {
      this.opts.logger.warn(`this instance was presumed dead (heartbeat gap); re-registering its ${this.opts.label}s`);
      const ids = new Set<string>();
      for (const [field, n] of this.local) {
        const [id, userId] = field.split('|');
        await this.redis.softchatViewersRestore(this.key('users', id), this.key('inst', this.instanceId), userId, field, n);
        ids.add(id);
      }
      for (const id of ids) this.opts.onChange(id);
    }
  }

  /** Claims dead instances (or, on shutdown, this one) and reports the objects whose count changed. */
  private async sweep(only?: string) {
    for (;;) {
      const out = await this.redis.softchatViewersSweep(
        this.key('instances'),
        only ? '+inf' : Date.now() - this.opts.ttlMs,
        `${this.redisService.prefix}:${this.opts.namespace}:`,
        10,
        only ?? '',
      );
      if (!(this.closingNow && this.opts.quietOnShutdown)) {
        for (let i = 0; i < out.length; i += 2) this.opts.onChange(String(out[i]));
      }
      if (only || out.length === 0) return;
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  /** A socket of the user started watching the object on this instance. Returns the count. */
  join(id: string, userId: string): Promise<number> {
    return this.track(
      (async () => {
        const field = `${id}|${userId}`;
        this.local.set(field, (this.local.get(field) ?? 0) + 1);
        const count = await this.redis.softchatViewersJoin(this.key('users', id), this.key('inst', this.instanceId), userId, field);
        this.opts.onChange(id);
        return Number(count);
      })(),
    );
  }

  /** A socket of the user stopped watching (left or disconnected). Returns the count. */
  leave(id: string, userId: string): Promise<number> {
    return this.track(
      (async () => {
        const field = `${id}|${userId}`;
        const n = (this.local.get(field) ?? 1) - 1;
        if (n > 0) this.local.set(field, n);
        else this.local.delete(field);
        // During shutdown the instance sweep removes all of this instance's viewers at once.
        if (this.closingNow) return this.count(id);
        const count = await this.redis.softchatViewersLeave(this.key('users', id), this.key('inst', this.instanceId), userId, field);
        this.opts.onChange(id);
        return Number(count);
      })(),
    );
  }

  count(id: string): Promise<number> {
    return this.redis.hlen(this.key('users', id));
  }

  /** Counts of many objects in one round trip. */
  async counts(ids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!ids.length) return out;
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hlen(this.key('users', id));
    const res = (await pipe.exec()) ?? [];
    ids.forEach((id, i) => {
      const [err, n] = res[i] ?? [];
      if (err) throw err;
      out.set(id, Number(n ?? 0));
    });
    return out;
  }
}
