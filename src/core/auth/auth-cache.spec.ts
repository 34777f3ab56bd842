import { AuthCache } from './auth-cache';
import type { SessionEvent } from './session-events';

describe('AuthCache (local answers to the per-request session checks)', () => {
  const roles = (userId: string, tokenVersion: number): SessionEvent => ({ type: 'roles-changed', userId, roles: ['user'], tokenVersion, reason: 'r' });

  it('answers only when both the session and the version are known, and only while the channel is live', () => {
    let live = true;
    const c = new AuthCache(60_000, () => live);
    expect(c.get('s1', 'u1')).toBeUndefined();
    c.store(c.mark(), 's1', false, 'u1', 3);
    expect(c.get('s1', 'u1')).toEqual({ revoked: false, version: 3 });
    expect(c.get('s2', 'u1')).toBeUndefined();
    live = false;
    expect(c.get('s1', 'u1')).toBeUndefined();
    c.store(c.mark(), 's2', false, 'u1', 3);
    live = true;
    expect(c.get('s2', 'u1')).toBeUndefined();
  });

  it('a revocation or role change updates the cache; a read that started before it is not stored', () => {
    const c = new AuthCache(60_000, () => true);
    c.store(c.mark(), 's1', false, 'u1', 1);
    const before = c.mark();
    c.apply({ type: 'sessions-revoked', sessionIds: ['s1', 's9'], reason: 'Signed out' });
    c.apply(roles('u1', 2));
    // The slow read (started before the announcements) saw the old state: dropped.
    c.store(before, 's1', false, 'u1', 1);
    expect(c.get('s1', 'u1')).toEqual({ revoked: true, version: 2 });
    expect(c.get('s9', 'u1')).toEqual({ revoked: true, version: 2 });
  });

  it('a token version only goes up (announcements out of order, stale reads, versions seen in tokens)', () => {
    const c = new AuthCache(60_000, () => true);
    c.store(c.mark(), 's1', false, 'u1', 5);
    c.apply(roles('u1', 4));
    expect(c.get('s1', 'u1')?.version).toBe(5);
    c.store(c.mark(), 's1', false, 'u1', 3);
    expect(c.get('s1', 'u1')?.version).toBe(5);
    c.sawVersion('u1', 7);
    expect(c.get('s1', 'u1')?.version).toBe(7);
    // A revoked read with no version known stores the revocation only.
    c.store(c.mark(), 's2', true, 'u2', null);
    expect(c.get('s2', 'u2')).toBeUndefined();
  });

  it('clear() forgets everything and invalidates reads in flight', () => {
    const c = new AuthCache(60_000, () => true);
    c.store(c.mark(), 's1', false, 'u1', 1);
    const before = c.mark();
    c.clear();
    expect(c.get('s1', 'u1')).toBeUndefined();
    c.store(before, 's1', false, 'u1', 1);
    expect(c.get('s1', 'u1')).toBeUndefined();
  });

  it('entries expire after the TTL; a TTL of 0 turns the cache off', () => {
    let now = 1000;
    const c = new AuthCache(2000, () => true, { now: () => now });
    c.store(c.mark(), 's1', false, 'u1', 1);
    now += 1999;
    expect(c.get('s1', 'u1')).toBeDefined();
    now += 2;
    expect(c.get('s1', 'u1')).toBeUndefined();
    const off = new AuthCache(0, () => true);
    off.store(off.mark(), 's1', false, 'u1', 1);
    expect(off.enabled).toBe(false);
    expect(off.get('s1', 'u1')).toBeUndefined();
  });
});
