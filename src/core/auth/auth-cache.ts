import { LRUCache } from 'lru-cache';
import type { SessionEvent } from './session-events';

/** Entries kept at most (per process): a few MB; the least recently used are dropped first. */
const MAX_ENTRIES = 100_000;

/**
 * The local answer to the two questions every authenticated request asks (TokenService.status):
 * "was this session signed out?" and "what is this user's current token version?". Without it,
 * each request costs a Redis round trip; with it, the common case costs none.
 *
 * Staleness is bounded three ways:
 * - every change of rights is announced on the session-events channel (Redis pub/sub): the
 *   announcement updates this cache on every instance (the announcing instance applies it
 *   before it publishes), so the next request anywhere sees it;
 * - entries expire after `ttlMs` (a lost announcement is corrected within that time);
 * - while the channel is not subscribed (disconnected, reconnecting) nothing is served from the
 *   cache, and it is emptied when the subscription is back, since announcements may have been missed.
 *
 * A read from Redis that started before an announcement arrived is not stored after it (the epoch
 * check), so a slow read cannot put a revoked session back. Errors only ever lean the safe way:
 * a revoked session is never cached as active by a race, and a token version only goes up.
 */
export class AuthCache {
  private readonly revoked: LRUCache<string, boolean> | null;
  private readonly versions: LRUCache<string, number> | null;
  private epoch = 0;

  constructor(
    readonly ttlMs: number,
    private readonly live: () => boolean,
    /** The clock entries expire by (tests pass their own). */
    clock: { now(): number } = performance,
  ) {
    // lru-cache: bounded size and per-entry TTL, checked on read (no timers).
    const opts = { max: MAX_ENTRIES, ttl: ttlMs, ttlResolution: 0, perf: clock };
    this.revoked = ttlMs > 0 ? new LRUCache<string, boolean>(opts) : null;
    this.versions = ttlMs > 0 ? new LRUCache<string, number>(opts) : null;
  }

  get enabled(): boolean {
    return this.revoked !== null && this.live();
  }

  /** Taken before a read from Redis; pass it to `store` with the answer. */
  mark(): number {
    return this.epoch;
  }

  /** The cached answer, or undefined when either half is missing (or the cache is off). */
  get(sid: string, userId: string): { revoked: boolean; version: number } | undefined {
    if (!this.enabled) return undefined;
    const revoked = this.revoked!.get(sid);
    if (revoked === undefined) return undefined;
    const version = this.versions!.get(userId);
    if (version === undefined) return undefined;
    return { revoked, version };
  }

  /**
   * Stores what was read from Redis/Postgres (a version only when it was actually read: pass
   * null otherwise), unless something changed rights since `mark`.
   */
  store(mark: number, sid: string, revoked: boolean, userId: string, version: number | null): void {
    if (!this.enabled || mark !== this.epoch) return;
    this.revoked!.set(sid, revoked);
    if (version !== null) this.raise(userId, version);
  }

  /**
   * A valid token carries a version the user had when it was signed, so the current version is
   * at least that: a cached lower one is known stale (its announcement has not arrived yet).
   */
  sawVersion(userId: string, version: number): void {
    if (!this.enabled) return;
    const cur = this.versions!.get(userId);
    if (cur !== undefined && version > cur) this.versions!.set(userId, version);
  }

  /** An announcement (from the channel, or from this instance before it publishes). */
  apply(e: SessionEvent): void {
    this.epoch++;
    if (!this.revoked) return;
    if (e.type === 'sessions-revoked') {
      for (const sid of e.sessionIds) this.revoked.set(sid, true);
    } else {
      this.raise(e.userId, e.tokenVersion);
    }
  }

  /** Announcements may have been missed: forget everything. */
  clear(): void {
    this.epoch++;
    this.revoked?.clear();
    this.versions?.clear();
  }

  private raise(userId: string, version: number) {
    const cur = this.versions!.get(userId, { allowStale: false });
    if (cur === undefined || version > cur) this.versions!.set(userId, version);
  }
}
