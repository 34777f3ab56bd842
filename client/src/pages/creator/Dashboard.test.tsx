// @vitest-environment jsdom
import { act, cleanup, render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CreatorStats, Milestone, Tip } from './series';

// REST and the subscriptions are replaced; the dashboard itself is real.
const day = (i: number) => ({
  date: `2026-01-${String(i + 1).padStart(2, '0')}`,
  followers: i,
  newFollowers: 1,
  views: i * 2,
  watchSeconds: 60,
  tipsCount: 0,
  earnings: i === 3 ? [{ asset: 'USDT', amount: '2.5' }] : [],
});
const stats: CreatorStats = {
  creatorId: 'c1',
  followers: 29,
  totalViews: 870,
  totalWatchSeconds: 7500,
  earnings: [{ asset: 'USDT', amount: '2.5' }],
  tipsCount: 1,
  videosCount: 2,
  series: Array.from({ length: 30 }, (_, i) => day(i)),
  updatedAt: '2026-01-30T00:00:00.000Z',
};
const tip = (id: string, message: string): Tip => ({ id, creatorId: 'c1', fromUserId: 'f', fromUsername: 'fan', asset: 'USDT', amount: '2.5', fee: '0', message, createdAt: '2026-01-04T00:00:00.000Z' });
const milestone: Milestone = { id: 'm1', metric: 'followers', target: '100', current: '29', progress: 0.29, achievedAt: null, estimatedAt: '2026-03-01T00:00:00.000Z' };

vi.mock('../../lib/api', async (orig) => ({
  ...(await orig<typeof import('../../lib/api')>()),
  api: vi.fn(async (path: string) => {
    if (path === '/creator/stats/c1') return stats;
    if (path === '/creator/c1/tips') return { items: [tip('t1', 'first!')], nextCursor: null };
    if (path === '/creator/c1/milestones') return [milestone];
    if (path === '/creator/c1/content/top') return [{ videoId: 'v1', title: 'My best clip', thumbnailUrl: null, views: 500, watchSeconds: 3600, tips: [] }];
    throw new Error(`unexpected ${path}`);
  }),
}));
const handlers = new Map<string, (d: unknown) => void>();
vi.mock('../live', () => ({
  useLive: (query: string, _v: unknown, on: (d: unknown) => void) => {
    handlers.set(query.includes('tipReceived') ? 'tips' : 'stats', on);
    return { error: undefined };
  },
}));

const { Dashboard } = await import('./Dashboard');
afterEach(cleanup);

describe('Dashboard', () => {
  it('shows totals, charts with text alternatives, milestones, tips and top content; follows live tips and stats', async () => {
    render(
      <MemoryRouter>
        <Dashboard creatorId="c1" own />
      </MemoryRouter>,
    );
    expect((await screen.findByTestId('kpi-followers')).textContent).toBe('29');
    expect(screen.getByText('2 h 5 min')).toBeTruthy();
    expect(screen.getByRole('img', { name: /Followers, last 30 days\. 2026-01-01 to 2026-01-30: from 0 to 29/ })).toBeTruthy();
    expect(screen.getByRole('img', { name: /Earnings per day in USDT/ })).toBeTruthy();
    const bar = screen.getByRole('progressbar', { name: /29 \/ 100 followers \(29%\), expected by 2026-03-01/ });
    expect(bar.getAttribute('value')).toBe('0.29');
    expect(await screen.findByText('My best clip')).toBeTruthy();
    const feed = screen.getByRole('list', { name: 'Tips feed' });
    expect(within(feed).getByText(/first!/)).toBeTruthy();

    act(() => handlers.get('tips')!({ tipReceived: tip('t2', 'live tip') }));
    act(() => handlers.get('tips')!({ tipReceived: tip('t2', 'live tip') })); // the same tip twice shows once
    expect(within(feed).getAllByRole('listitem').map((li) => li.textContent)).toEqual([expect.stringMatching(/live tip/), expect.stringMatching(/first!/)]);

    act(() => handlers.get('stats')!({ creatorStatsUpdated: { ...stats, followers: 30, updatedAt: '2026-01-30T00:01:00.000Z' } }));
    expect(screen.getByTestId('kpi-followers').textContent).toBe('30');
  });
});
