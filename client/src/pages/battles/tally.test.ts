import { describe, expect, it } from 'vitest';
import { applyUpdate, checkNewBattle, isAlreadyVoted, mergeBattle, share, sortBattles, votesText, winnerName, type Battle } from './tally';

const battle: Battle = {
  id: 'b1',
  title: 'Beat-off',
  status: 'live',
  participants: [
    { userId: 'u1', username: 'alice', votes: 2 },
    { userId: 'u2', username: 'bob', votes: 1 },
  ],
  viewerCount: 3,
  endsAt: '2026-01-01T00:10:00.000Z',
  winnerId: null,
};

describe('applyUpdate', () => {
  it('merges tallies and the viewer count', () => {
    const b = applyUpdate(battle, { battleId: 'b1', votes: [{ userId: 'u2', votes: 4 }], viewerCount: 7 });
    expect(b.participants.map((p) => p.votes)).toEqual([2, 4]);
    expect(b.viewerCount).toBe(7);
    expect(b.status).toBe('live');
  });

  it('ignores a stale tally and other battles', () => {
    expect(applyUpdate(battle, { battleId: 'b1', votes: [{ userId: 'u1', votes: 1 }] }).participants[0].votes).toBe(2);
    expect(applyUpdate(battle, { battleId: 'other', viewerCount: 99 })).toBe(battle);
  });

  it('ends with a winner, and stays ended', () => {
    const ended = applyUpdate(battle, { battleId: 'b1', status: 'ended', winnerId: 'u1', resultHash: 'ab' });
    expect(winnerName(ended)).toBe('alice');
    expect(ended.resultHash).toBe('ab');
    expect(applyUpdate(ended, { battleId: 'b1', status: 'live' }).status).toBe('ended');
    expect(winnerName(battle)).toBeNull();
  });
});

it('orders live battles first', () => {
  const ended = { ...battle, id: 'e', status: 'ended' as const };
  const later = { ...battle, id: 'l', endsAt: '2026-01-01T01:00:00.000Z' };
  expect(sortBattles([ended, later, battle]).map((b) => b.id)).toEqual(['b1', 'l', 'e']);
});

it('words tallies as the contract says', () => {
  expect(votesText(3)).toBe('3 votes');
  expect(share(battle, battle.participants[0])).toBe(67);
  expect(share({ ...battle, participants: [{ userId: 'x', username: 'x', votes: 0 }] }, { userId: 'x', username: 'x', votes: 0 })).toBe(0);
});

it('recognises ALREADY_VOTED in its forms', () => {
  expect(isAlreadyVoted({ status: 409, code: 'ALREADY_VOTED', message: 'x' })).toBe(true);
  expect(isAlreadyVoted({ message: '[GraphQL] You have already voted' })).toBe(true);
  expect(isAlreadyVoted({ extensions: { code: 'ALREADY_VOTED' } })).toBe(true);
  expect(isAlreadyVoted({ status: 422, message: 'ended' })).toBe(false);
  expect(isAlreadyVoted(null)).toBe(false);
});

it('checks a new battle', () => {
  expect(checkNewBattle({ title: 'x', participantIds: ['a', 'b'], durationSeconds: 60 })).toEqual([]);
  expect(checkNewBattle({ title: ' ', participantIds: ['a', 'a'], durationSeconds: 5 })).toHaveLength(3);
});

it('merges a fresh read without undoing live updates', () => {
  const liveView = applyUpdate(battle, { battleId: 'b1', votes: [{ userId: 'u2', votes: 9 }], status: 'ended', winnerId: 'u2' });
  const stale = { ...battle, myVote: 'u1' };
  const m = mergeBattle(liveView, stale);
  expect(m.status).toBe('ended');
  expect(m.winnerId).toBe('u2');
  expect(m.participants.map((p) => p.votes)).toEqual([2, 9]);
  expect(m.myVote).toBe('u1');
  expect(mergeBattle(null, battle)).toBe(battle);
});
