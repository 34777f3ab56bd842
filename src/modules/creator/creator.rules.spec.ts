import { MoneyFormatError } from '../ledger/money';
import {
  buildSeries,
  canReadPrivate,
  canSetMilestone,
  DAY_MS,
  decideFollow,
  DEFAULT_LADDER,
  displayValue,
  estimateReachAt,
  lastDays,
  normaliseMessage,
  parseTarget,
  planTip,
  progress,
  windowGains,
} from './creator.rules';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('creator rules', () => {
  describe('who may read private figures', () => {
    it('lets the creator and admins in, refuses strangers before saying whether the id exists', () => {
      expect(canReadPrivate({ id: A, admin: false }, A, true)).toEqual({ ok: true });
      expect(canReadPrivate({ id: B, admin: true }, A, true)).toEqual({ ok: true });
      expect(canReadPrivate({ id: B, admin: false }, A, true)).toMatchObject({ ok: false, error: 'forbidden' });
      expect(canReadPrivate({ id: B, admin: false }, A, false)).toMatchObject({ ok: false, error: 'forbidden' });
      expect(canReadPrivate({ id: B, admin: true }, A, false)).toMatchObject({ ok: false, error: 'not_found' });
    });

    it('lets only the creator set milestones', () => {
      expect(canSetMilestone(A, A, true)).toEqual({ ok: true });
      expect(canSetMilestone(B, A, true)).toMatchObject({ error: 'forbidden' });
      expect(canSetMilestone(A, A, false)).toMatchObject({ error: 'not_found' });
    });
  });

  it('follows creators only, never oneself', () => {
    expect(decideFollow(B, A, true)).toEqual({ ok: true });
    expect(decideFollow(B, A, false)).toMatchObject({ error: 'not_found' });
    expect(decideFollow(A, A, true)).toMatchObject({ error: 'unprocessable', message: 'You cannot follow yourself' });
  });

  describe('tips', () => {
    it('splits the gross amount into the fee (bps rounded up to the next minor unit) and what reaches the creator', () => {
      const r = planTip({ asset: 'USD', amount: '10.00', message: '  thanks!  ' }, 250, B, A, true);
      expect(r).toEqual({ ok: true, plan: { asset: 'USD', amount: 1000n, fee: 25n, net: 975n, message: 'thanks!' } });
      const odd = planTip({ asset: 'USD', amount: '0.39' }, 250, B, A, true);
      expect(odd).toMatchObject({ plan: { fee: 1n, net: 38n, message: null } });
      expect(planTip({ asset: 'BTC', amount: '1' }, 0, B, A, true)).toMatchObject({ plan: { fee: 0n, net: 100_000_000n } });
    });

    it('refuses self-tips, non-creators, bad assets and amounts nothing would reach the creator from', () => {
      expect(planTip({ asset: 'USD', amount: '1' }, 0, A, A, true)).toMatchObject({ ok: false, error: 'unprocessable', message: 'You cannot tip yourself' });
      expect(planTip({ asset: 'USD', amount: '1' }, 0, B, A, false)).toMatchObject({ ok: false, error: 'not_found' });
      expect(planTip({ asset: 'DOGE', amount: '1' }, 0, B, A, true)).toMatchObject({ ok: false, error: 'bad_request', message: expect.stringMatching(/^asset must be one of/) });
      expect(planTip({ asset: 'USD', amount: '0.01' }, 10_000, B, A, true)).toMatchObject({ ok: false, error: 'unprocessable' });
      expect(() => planTip({ asset: 'USD', amount: 5 }, 0, B, A, true)).toThrow(MoneyFormatError);
      expect(() => planTip({ asset: 'USD', amount: '0' }, 0, B, A, true)).toThrow(/amount/);
      expect(() => planTip({ asset: 'USD', amount: '1.001' }, 0, B, A, true)).toThrow(/amount/);
    });

    it('limits messages to 280 characters (not UTF-16 units) without control characters', () => {
      expect(normaliseMessage('x'.repeat(280))).toEqual({ ok: true, value: 'x'.repeat(280) });
      expect(normaliseMessage('😀'.repeat(280))).toMatchObject({ ok: true });
      expect(normaliseMessage('x'.repeat(281))).toEqual({ ok: false, message: 'message must be at most 280 characters' });
      expect(normaliseMessage('   ')).toEqual({ ok: true, value: null });
      expect(normaliseMessage('a\u0000b')).toMatchObject({ ok: false, message: expect.stringMatching(/control/) });
      expect(normaliseMessage('line one\nline two')).toMatchObject({ ok: true });
      expect(normaliseMessage(42)).toMatchObject({ ok: false, message: 'message must be a string' });
    });
  });

  describe('milestones', () => {
    it('has a default ladder for each metric, earnings in USD', () => {
      const metrics = new Set(DEFAULT_LADDER.map((s) => s.metric));
      expect([...metrics].sort()).toEqual(['earnings', 'followers', 'views', 'watch_hours']);
      expect(DEFAULT_LADDER.filter((s) => s.metric === 'earnings').every((s) => s.asset === 'USD')).toBe(true);
      expect(DEFAULT_LADDER.find((s) => s.metric === 'watch_hours')!.target).toBe(3600n);
    });

    it('parses targets into base units and names the bad field', () => {
      expect(parseTarget('followers', '250')).toEqual({ ok: true, step: { metric: 'followers', asset: '', target: 250n } });
      expect(parseTarget('views', 5000)).toEqual({ ok: true, step: { metric: 'views', asset: '', target: 5000n } });
      expect(parseTarget('watch_hours', '2.5')).toEqual({ ok: true, step: { metric: 'watch_hours', asset: '', target: 9000n } });
      expect(parseTarget('watch_hours', '0.01')).toMatchObject({ step: { target: 36n } });
      expect(parseTarget('earnings', '12.34')).toEqual({ ok: true, step: { metric: 'earnings', asset: 'USD', target: 1234n } });
      expect(parseTarget('earnings', '0.5', 'BTC')).toMatchObject({ step: { asset: 'BTC', target: 50_000_000n } });
      expect(parseTarget('likes', '1')).toMatchObject({ ok: false, message: expect.stringMatching(/^metric must be one of/) });
      expect(parseTarget('followers', '0')).toMatchObject({ ok: false, message: 'target must be greater than zero' });
      expect(parseTarget('followers', '1.5')).toMatchObject({ ok: false, message: expect.stringMatching(/^target must be a whole number/) });
      expect(parseTarget('followers', -3)).toMatchObject({ ok: false, message: expect.stringMatching(/^target/) });
      expect(parseTarget('followers', { n: 1 })).toMatchObject({ ok: false, message: expect.stringMatching(/^target/) });
      expect(parseTarget('watch_hours', '1.234')).toMatchObject({ ok: false, message: expect.stringMatching(/^target/) });
      expect(parseTarget('followers', '10', 'USD')).toMatchObject({ ok: false, message: 'asset is only for earnings milestones' });
      expect(parseTarget('earnings', '1', 'XYZ')).toMatchObject({ ok: false, message: expect.stringMatching(/^asset must be one of/) });
      expect(parseTarget('earnings', 'lots')).toMatchObject({ ok: false, message: expect.stringMatching(/target/) });
    });

    it('shows values as clients expect', () => {
      expect(displayValue('followers', '', 42n)).toBe('42');
      expect(displayValue('watch_hours', '', 5400n)).toBe('1.50');
      expect(displayValue('watch_hours', '', 35n)).toBe('0.00');
      expect(displayValue('earnings', 'USD', 1234n)).toBe('12.34');
    });

    it('computes progress between 0 and 1, and 1 once achieved', () => {
      expect(progress(0n, 10n, false)).toBe(0);
      expect(progress(3n, 10n, false)).toBe(0.3);
      expect(progress(1n, 3n, false)).toBe(0.3333);
      expect(progress(12n, 10n, false)).toBe(1);
      expect(progress(5n, 10n, true)).toBe(1);
    });

    it("estimates the date from the last 7 days' rate", () => {
      const now = Date.UTC(2026, 0, 1);
      // 70 gained in 7 days = 10 a day; 100 missing → 10 days.
      expect(estimateReachAt(900n, 1000n, 70n, now)).toEqual(new Date(now + 10 * DAY_MS));
      // Rounded up to the next millisecond.
      expect(estimateReachAt(0n, 1n, 3n, now, 10)).toEqual(new Date(now + 4));
      expect(estimateReachAt(1000n, 1000n, 70n, now)).toBeNull();
      expect(estimateReachAt(10n, 1000n, 0n, now)).toBeNull();
      expect(estimateReachAt(10n, 1000n, -5n, now)).toBeNull();
      expect(estimateReachAt(0n, 10n ** 70n, 1n, now)).toBeNull();
    });
  });

  describe('series', () => {
    const now = Date.UTC(2026, 2, 31, 15, 30);

    it('lists the last 30 UTC days oldest first, ending today', () => {
      const d = lastDays(now);
      expect(d).toHaveLength(30);
      expect(d[0]).toBe('2026-03-02');
      expect(d[29]).toBe('2026-03-31');
    });

    it('fills the days, keeps followers cumulative at day end, earnings per asset', () => {
      const dates = lastDays(now, 3); // 03-29, 03-30, 03-31
      const rows = {
        followersBefore: 5,
        follows: [
          { day: '2026-03-29', net: 2, added: 3 },
          { day: '2026-03-31', net: -1, added: 0 },
        ],
        watching: [{ day: '2026-03-30', views: 4, watchedMs: 12_500 }],
        tips: [
          { day: '2026-03-31', asset: 'USD' as const, count: 2, net: 975n },
          { day: '2026-03-31', asset: 'BTC' as const, count: 1, net: 1n },
        ],
      };
      const s = buildSeries(dates, rows);
      expect(s).toEqual([
        { date: '2026-03-29', followers: 7, newFollowers: 3, views: 0, watchSeconds: 0, tipsCount: 0, earnings: [] },
        { date: '2026-03-30', followers: 7, newFollowers: 0, views: 4, watchSeconds: 12.5, tipsCount: 0, earnings: [] },
        {
          date: '2026-03-31',
          followers: 6,
          newFollowers: 0,
          views: 0,
          watchSeconds: 0,
          tipsCount: 3,
          earnings: [
            { asset: 'BTC', amount: '0.00000001' },
            { asset: 'USD', amount: '9.75' },
          ],
        },
      ]);
      const g = windowGains(s, rows);
      expect(g).toEqual({ followers: 1n, views: 4n, watchSeconds: 12n, earnings: new Map([['USD', 975n], ['BTC', 1n]]) });
    });

    it('measures gains over the last 7 days only', () => {
      const dates = lastDays(now);
      const rows = {
        followersBefore: 0,
        follows: [
          { day: dates[0], net: 50, added: 50 },
          { day: dates[25], net: 7, added: 7 },
        ],
        watching: [
          { day: dates[1], views: 100, watchedMs: 1_000_000 },
          { day: dates[29], views: 3, watchedMs: 3_000 },
        ],
        tips: [
          { day: dates[2], asset: 'USD' as const, count: 1, net: 100n },
          { day: dates[23], asset: 'USD' as const, count: 1, net: 5n },
        ],
      };
      const s = buildSeries(dates, rows);
      expect(s[29].followers).toBe(57);
      expect(windowGains(s, rows)).toEqual({ followers: 7n, views: 3n, watchSeconds: 3n, earnings: new Map([['USD', 5n]]) });
    });
  });
});
