import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { PeriodicTask } from '../../core/scheduling/periodic-task';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RedisService } from '../../core/redis/redis.service';
import { notFound, rateLimited } from '../../core/http/domain-error';
import { iso, rows } from '../../core/database/sql';
import { PresenceStatus, effectiveStatus, transition } from './presence.rules';
import { PresenceRedis, withPresenceCommands } from './presence.scripts';

export interface PresenceView {
  userId: string;
  status: PresenceStatus;
  lastSeenAt: string | null;
}

/** A visible presence change, announced exactly once across all instances. */
export interface PresenceChange extends PresenceView {
  previous: PresenceStatus;
}

type Listener = (change: PresenceChange) => Promise<void> | void;


/** A chosen status is remembered for a month of inactivity. */
const STATUS_TTL_SECONDS = 30 * 86400;

/**
 * Presence shared by every instance through Redis. A user is online while any of their
 * sockets, on any instance, is connected. Each instance heartbeats; when one stops (crash,
 * kill -9, lost network) another instance's sweeper claims it after PRESENCE_TTL_MS and
 * takes its sockets offline, so nobody stays "online" forever. Transitions are computed in
 * Lua, so exactly one instance announces each; other modules listen with `onChange`.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Presence');
  readonly instanceId = randomUUID();
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  /** Changes of one user within this window are announced once, as their net effect. */
  readonly coalesceMs: number;
  /** Chosen-status changes (`update_presence`) a user may make per minute. */
  readonly statusChangesPerMinute: number;
  /** Users whose announcement is waiting for the coalescing window: the status before the first change. */
  private readonly pending = new Map<string, { from: PresenceStatus; latest: PresenceChange; timer: NodeJS.Timeout }>();
  private readonly redis: PresenceRedis;
  /** This instance's sockets per user, to re-register them if the instance was swept while alive. */
  private readonly local = new Map<string, number>();
  private readonly listeners = new Set<Listener>();
  private ticker?: PeriodicTask;
  private closing = false;
  /** Connect/disconnect work in flight, awaited on shutdown before the final sweep. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly redisService: RedisService,
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // PRESENCE_TTL_MS >= 2 × PRESENCE_HEARTBEAT_MS is checked with the rest of the configuration.
    ({ heartbeatMs: this.heartbeatMs, ttlMs: this.ttlMs, coalesceMs: this.coalesceMs, statusChangesPerMinute: this.statusChangesPerMinute } = config.messaging.presence);
    this.redis = withPresenceCommands(redisService.client);
  }

  private k(...parts: string[]) {
    return this.redisService.key('presence', ...parts);
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async onApplicationBootstrap() {
    await this.heartbeat();
    this.ticker = new PeriodicTask('presence heartbeat/sweep', this.heartbeatMs, async () => {
      await this.heartbeat();
      await this.sweep();
    }, this.logger);
    this.ticker.start();
  }

  /** Graceful stop: this instance's sockets go offline now rather than at heartbeat expiry. */
  async onModuleDestroy() {
    this.closing = true;
    await this.ticker?.stop();
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled([...this.pending.keys()].map((u) => this.flush(u)));
    try {
      await this.sweep(this.instanceId);
    } catch (e) {
      this.logger.warn(`presence cleanup on shutdown failed: ${(e as Error).message}`);
    }
  }

  private async heartbeat() {
    const added = await this.redis.zadd(this.k('instances'), Date.now(), this.instanceId);
    if (added === 1 && this.local.size) {
      this.logger.warn('this instance was presumed dead (heartbeat gap); re-registering its sockets');
      for (const [userId, n] of this.local) {
        const [before, after, chosen] = await this.redis.softchatPresenceRestore(
          this.k('conn', userId),
          this.k('inst', this.instanceId),
          this.k('status', userId),
          this.instanceId,
          userId,
          n,
        );
        await this.maybeAnnounce(userId, effectiveStatus(Number(before), chosen), effectiveStatus(Number(after), chosen));
      }
    }
  }

  /** Claims dead instances (or, on shutdown, this one) and announces the users they took offline. */
  private async sweep(only?: string) {
    for (;;) {
      const out = await this.redis.softchatPresenceSweep(
        this.k('instances'),
        only ? '+inf' : Date.now() - this.ttlMs,
        `${this.redisService.prefix}:presence:`,
        10,
        only ?? '',
      );
      // A dead instance may have held thousands of users: announce them 16 at a time.
      const gone = Array.from({ length: out.length / 2 }, (_, i) => ({ userId: out[i * 2], chosen: out[i * 2 + 1] }));
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(16, gone.length) }, async () => {
          while (next < gone.length) {
            const g = gone[next++];
            await this.maybeAnnounce(g.userId, effectiveStatus(1, g.chosen), 'offline');
          }
        }),
      );
      if (only || out.length === 0) return;
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  /** A socket of the user connected on this instance. */
  connected(userId: string): Promise<void> {
    return this.track(this.onConnected(userId));
  }

  /** A socket of the user disconnected from this instance. */
  disconnected(userId: string): Promise<void> {
    return this.track(this.onDisconnected(userId));
  }

  private async onConnected(userId: string): Promise<void> {
    this.local.set(userId, (this.local.get(userId) ?? 0) + 1);
    const [total, chosen] = await this.redis.softchatPresenceConnect(
      this.k('conn', userId),
      this.k('inst', this.instanceId),
      this.k('status', userId),
      this.instanceId,
      userId,
    );
    await this.maybeAnnounce(userId, effectiveStatus(Number(total) - 1, chosen), effectiveStatus(Number(total), chosen));
  }

  private async onDisconnected(userId: string): Promise<void> {
    const n = (this.local.get(userId) ?? 1) - 1;
    if (n > 0) this.local.set(userId, n);
    else this.local.delete(userId);
    // During shutdown the instance sweep takes all of this instance's sockets offline at once.
    if (this.closing) return;
    const [total, chosen] = await this.redis.softchatPresenceDisconnect(
      this.k('conn', userId),
      this.k('inst', this.instanceId),
      this.k('status', userId),
      this.instanceId,
      userId,
    );
    await this.maybeAnnounce(userId, effectiveStatus(Number(total) + 1, chosen), effectiveStatus(Number(total), chosen));
  }

  /** The user picks a status (`offline` while connected means invisible). Rate limited per user. */
  async setStatus(userId: string, status: PresenceStatus): Promise<PresenceView> {
    // A minute-long window per user that starts at their first change (INCR, TTL set once).
    const rl = this.k('rate', userId);
    const res = ((await this.redis.multi().incr(rl).pttl(rl).exec()) ?? []) as [unknown, number][];
    const n = Number(res[0]?.[1] ?? 0);
    const ttl = Number(res[1]?.[1] ?? -1);
    if (ttl < 0) await this.redis.pexpire(rl, 60_000);
    if (n > this.statusChangesPerMinute) {
      throw rateLimited(Math.max(1, Math.ceil((ttl > 0 ? ttl : 60_000) / 1000)), `Status changes are limited to ${this.statusChangesPerMinute} a minute`);
    }
    const [total, previous] = await this.redis.softchatPresenceSetStatus(this.k('conn', userId), this.k('status', userId), status, STATUS_TTL_SECONDS);
    const before = effectiveStatus(Number(total), previous);
    const after = effectiveStatus(Number(total), status);
    const announced = await this.maybeAnnounce(userId, before, after);
    return { userId, status: after, lastSeenAt: announced ? announced.lastSeenAt : await this.lastSeen(userId) };
  }

  async get(userId: string): Promise<PresenceView> {
    const found = await rows<{ last_seen_at: Date | null }>(this.ds, `SELECT last_seen_at FROM users WHERE id = $1`, [userId]);
    if (!found.length) throw notFound('User not found');
    const status = (await this.statuses([userId])).get(userId) ?? 'offline';
    return { userId, status, lastSeenAt: iso(found[0].last_seen_at) };
  }

  /** Visible statuses of many users in one Redis round trip. */
  async statuses(userIds: string[]): Promise<Map<string, PresenceStatus>> {
    const out = new Map<string, PresenceStatus>();
    if (!userIds.length) return out;
    const pipe = this.redis.pipeline();
    for (const id of userIds) {
      pipe.hvals(this.k('conn', id));
      pipe.get(this.k('status', id));
    }
    const res = (await pipe.exec()) ?? [];
    userIds.forEach((id, i) => {
      const [e1, counts] = res[i * 2] ?? [];
      const [e2, chosen] = res[i * 2 + 1] ?? [];
      if (e1 || e2) throw e1 ?? e2;
      const total = (counts as string[]).reduce((s, v) => s + Number(v), 0);
      out.set(id, effectiveStatus(total, chosen as string | null));
    });
    return out;
  }

  private async lastSeen(userId: string): Promise<string | null> {
    const r = await rows<{ last_seen_at: Date | null }>(this.ds, `SELECT last_seen_at FROM users WHERE id = $1`, [userId]);
    return iso(r[0]?.last_seen_at ?? null);
  }

  private async maybeAnnounce(userId: string, before: PresenceStatus, after: PresenceStatus): Promise<PresenceChange | null> {
    const t = transition(before, after);
    if (!t) return null;
    // Coming online and going offline both stamp lastSeenAt; a change between online states does not.
    const touches = t.from === 'offline' || t.to === 'offline';
    const r = await rows<{ last_seen_at: Date | null }>(
      this.ds,
      touches ? `UPDATE users SET last_seen_at = now() WHERE id = $1 RETURNING last_seen_at` : `SELECT last_seen_at FROM users WHERE id = $1`,
      [userId],
    );
    const change: PresenceChange = { userId, status: t.to, previous: t.from, lastSeenAt: iso(r[0]?.last_seen_at ?? null) };
    this.coalesce(change);
    return change;
  }

  /**
   * Bounded fan-out: a user's changes within PRESENCE_COALESCE_MS are announced once, as their
   * net effect (online → away → online announces nothing), so flapping clients or alternating
   * `update_presence` cost one announcement per window, not one per change.
   */
  private coalesce(change: PresenceChange) {
    const p = this.pending.get(change.userId);
    if (p) {
      p.latest = change;
      return;
    }
    if (this.coalesceMs === 0 || this.closing) {
      void this.emit(change);
      return;
    }
    const timer = setTimeout(() => void this.flush(change.userId), this.coalesceMs);
    timer.unref?.();
    this.pending.set(change.userId, { from: change.previous, latest: change, timer });
  }

  private async flush(userId: string) {
    const p = this.pending.get(userId);
    if (!p) return;
    this.pending.delete(userId);
    clearTimeout(p.timer);
    // Announce what is true now (another instance may have moved the user meanwhile).
    const now = (await this.statuses([userId]).catch(() => null))?.get(userId) ?? p.latest.status;
    if (now === p.from) return;
    await this.emit({ ...p.latest, status: now, previous: p.from });
  }

  private async emit(change: PresenceChange) {
    await Promise.all(
      [...this.listeners].map(async (l) => {
        try {
          await l(change);
        } catch (e) {
          // While this instance shuts down its connections close under the listeners (expected:
          // the other instances' sweep announces these users); otherwise it is worth a warning.
          if (this.closing) this.logger.debug(`presence listener stopped by shutdown: ${(e as Error).message}`);
          else this.logger.warn(`presence listener failed: ${(e as Error).message}`);
        }
      }),
    );
  }
}
