import { perDay, refusalReason, runwayDays, utcDay, wireStatus, ACTION_PATTERN, TARGET_PATTERN } from './rewards.rules';

describe('reward rules', () => {
  const rule = { action: 'like', dailyCap: 50, cooldownSeconds: 2 };

  it('reports an empty pool as disabled on the wire, with its own reason', () => {
    expect(wireStatus('pool_exhausted')).toBe('disabled');
    expect(wireStatus('capped')).toBe('capped');
    expect(refusalReason('pool_exhausted', rule, null)).toMatch(/pool/);
    expect(refusalReason('disabled', rule, null)).toBe('Rewards for like are disabled');
  });

  it("reports a creator's spent daily budget as capped on the wire, with its own reason", () => {
    expect(wireStatus('budget_exhausted')).toBe('capped');
    expect(refusalReason('budget_exhausted', rule, 3600)).toMatch(/daily reward budget.*00:00 UTC/);
  });

  it('explains cooldowns and caps', () => {
    expect(refusalReason('cooldown', rule, 1)).toMatch(/Wait 1 s/);
    expect(refusalReason('capped', rule, 3600)).toMatch(/Daily limit of 50 like rewards/);
    expect(refusalReason('capped', { ...rule, dailyCap: 1 }, 3600)).toMatch(/1 like reward reached/);
    expect(refusalReason('queued', rule, null)).toBeUndefined();
  });

  it('counts days in UTC', () => {
    expect(utcDay(new Date('2026-01-01T23:59:59.999-05:00'))).toBe('2026-01-02');
    expect(utcDay(new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-01');
  });

  it('computes burn rate and runway exactly', () => {
    expect(perDay(700n, 7)).toBe(100n);
    expect(perDay(5n, 0)).toBe(0n);
    expect(runwayDays(1000n, 300n)).toBe(3.3);
    expect(runwayDays(1000n, 0n)).toBeNull();
  });

  it('accepts sane actions and targets only', () => {
    expect(ACTION_PATTERN.test('watch_milestone')).toBe(true);
    expect(ACTION_PATTERN.test('Like')).toBe(false);
    expect(ACTION_PATTERN.test('')).toBe(false);
    expect(TARGET_PATTERN.test('post:123/abc')).toBe(true);
    expect(TARGET_PATTERN.test('has space')).toBe(false);
    expect(TARGET_PATTERN.test('x'.repeat(201))).toBe(false);
  });
});
