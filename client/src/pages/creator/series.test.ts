import { describe, expect, it } from 'vitest';
import { addTip, bars, earningAssets, earningsPoints, linePath, milestoneLabel, pointsOf, watchTime, type DayPoint, type Tip } from './series';

const day = (date: string, followers: number, views: number, earnings: DayPoint['earnings'] = []): DayPoint => ({
  date,
  followers,
  newFollowers: 0,
  views,
  watchSeconds: 0,
  tipsCount: 0,
  earnings,
});
const series = [day('2026-01-01', 1, 10), day('2026-01-02', 3, 0, [{ asset: 'USDT', amount: '2.50' }]), day('2026-01-03', 5, 20, [{ asset: 'BTC', amount: '0.001' }])];

describe('series', () => {
  it('turns day points into chart points', () => {
    expect(pointsOf(series, 'followers').map((p) => p.value)).toEqual([1, 3, 5]);
    expect(earningsPoints(series, 'USDT').map((p) => p.value)).toEqual([0, 2.5, 0]);
    expect(earningAssets({ earnings: [{ asset: 'SOFT', amount: '1' }], series })).toEqual(['SOFT', 'USDT', 'BTC']);
  });

  it('draws a line inside the box', () => {
    expect(linePath([{ date: 'a', value: 0 }, { date: 'b', value: 5 }, { date: 'c', value: 10 }], 100, 50)).toBe('0,50 50,25 100,0');
    expect(linePath([], 100, 50)).toBe('');
    expect(linePath([{ date: 'a', value: 0 }, { date: 'b', value: 0 }], 100, 50)).toBe('0,50 100,50');
  });

  it('draws bars proportional to the largest', () => {
    const b = bars([{ date: 'a', value: 10 }, { date: 'b', value: 5 }], 100, 40, 0);
    expect(b.map((x) => [x.x, x.width, x.y, x.height])).toEqual([
      [0, 50, 0, 40],
      [50, 50, 20, 20],
    ]);
    expect(bars([{ date: 'a', value: 0 }], 10, 10)[0].height).toBe(0);
  });
});

describe('tips feed', () => {
  const tip = (id: string): Tip => ({ id, creatorId: 'c', fromUserId: 'u', asset: 'USDT', amount: '1', fee: '0', message: null, createdAt: 'now' });
  it('puts new tips first, once', () => {
    const feed = addTip([tip('a')], tip('b'));
    expect(feed.map((t) => t.id)).toEqual(['b', 'a']);
    expect(addTip(feed, tip('a'))).toBe(feed);
    expect(addTip([tip('a'), tip('b')], tip('c'), 2).map((t) => t.id)).toEqual(['c', 'a']);
  });
});

it('words milestones and watch time', () => {
  const m = { id: '1', metric: 'followers' as const, target: '100', current: '25', progress: 0.25, achievedAt: null, estimatedAt: '2026-02-01T00:00:00Z' };
  expect(milestoneLabel(m)).toBe('25 / 100 followers (25%), expected by 2026-02-01');
  expect(milestoneLabel({ ...m, progress: 1, current: '100', achievedAt: '2026-01-05T00:00:00Z' })).toBe('100 / 100 followers (100%), reached 2026-01-05');
  expect(milestoneLabel({ ...m, metric: 'watch_hours', estimatedAt: null })).toBe('25 / 100 watch hours (25%)');
  expect(milestoneLabel({ ...m, progress: 0.29, current: '29' })).toMatch(/\(29%\)/);
  expect(milestoneLabel({ ...m, progress: 0.999 })).toMatch(/\(99%\)/);
  expect(watchTime(7500)).toBe('2 h 5 min');
  expect(watchTime(59)).toBe('0 min');
});
