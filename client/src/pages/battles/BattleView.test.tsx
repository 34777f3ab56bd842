// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Battle, BattleUpdate } from './tally';

// The page's transports (REST, socket, GraphQL subscription) are replaced; the page itself is real.
const calls: { path: string; body?: unknown }[] = [];
let live: ((d: { battleUpdated: BattleUpdate }) => void) | null = null;
const battle: Battle = {
  id: 'b1',
  title: 'Beat-off',
  status: 'live',
  participants: [
    { userId: 'u1', username: 'alice', votes: 0 },
    { userId: 'u2', username: 'bob', votes: 0 },
  ],
  viewerCount: 1,
  endsAt: new Date(Date.now() + 600_000).toISOString(),
  winnerId: null,
  myVote: null,
};

vi.mock('../../lib/api', async (orig) => {
  const real = await orig<typeof import('../../lib/api')>();
  return {
    ...real,
    api: vi.fn(async (path: string, opts?: { body?: unknown }) => {
      calls.push({ path, body: opts?.body });
      if (path.endsWith('/votes')) {
        if (calls.filter((c) => c.path.endsWith('/votes')).length > 1) throw new real.ApiError(409, 'ALREADY_VOTED', 'You already voted in this battle');
        return { ...battle, participants: [{ ...battle.participants[0], votes: 1 }, battle.participants[1]], myVote: 'u1' };
      }
      return battle;
    }),
  };
});
vi.mock('../../lib/socket', () => ({
  emitAck: vi.fn(async () => ({ ...battle, viewerCount: 3 })),
  getSocket: () => ({ emit: vi.fn() }),
  useSocketEvent: () => undefined,
}));
vi.mock('../live', () => ({
  useLive: (_q: string, _v: unknown, on: (d: { battleUpdated: BattleUpdate }) => void) => {
    live = on;
    return { error: undefined };
  },
}));

const { BattleView } = await import('./BattleView');

beforeEach(() => {
  calls.length = 0;
  live = null;
});
afterEach(cleanup);

describe('BattleView', () => {
  it('shows tallies as "N votes", votes by name, follows live updates and names ALREADY_VOTED', async () => {
    render(
      <MemoryRouter>
        <BattleView battleId="b1" />
      </MemoryRouter>,
    );
    await screen.findByRole('heading', { name: 'Beat-off' });
    expect(screen.getAllByText('0 votes')).toHaveLength(2);
    await screen.findByText('3 watching');

    fireEvent.click(screen.getByRole('button', { name: 'Vote for alice' }));
    await screen.findByText('1 votes');
    expect(calls.find((c) => c.path === '/battles/b1/votes')?.body).toEqual({ participantId: 'u1' });
    await screen.findByText('You voted for alice.');

    act(() => live!({ battleUpdated: { battleId: 'b1', votes: [{ userId: 'u1', votes: 1 }, { userId: 'u2', votes: 4 }], viewerCount: 5 } }));
    await screen.findByText('4 votes');
    await screen.findByText('5 watching');

    fireEvent.click(screen.getByRole('button', { name: 'Vote for bob' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/already voted/i);

    act(() => live!({ battleUpdated: { battleId: 'b1', status: 'ended', winnerId: 'u2', votes: [], viewerCount: 5 } }));
    await screen.findByText('Winner: bob');
    expect(screen.queryByRole('button', { name: /Vote for/ })).toBeNull();
  });
});
