import { checkDuration, checkParticipants, decideEnd, decideResult, decideVote, splitEvenly, Tally } from './battle.machine';
import { hashLog, pseudonym, recount, toLogEntries } from './vote-log';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const C = 'cccccccc-0000-4000-8000-000000000003';
const V = 'dddddddd-0000-4000-8000-000000000004';

describe('battle rules', () => {
  it('needs 2 to 8 distinct participants', () => {
    expect(checkParticipants([A])).toMatchObject({ ok: false, field: 'participantIds' });
    expect(checkParticipants([A, B])).toEqual({ ok: true });
    expect(checkParticipants([A, A.toUpperCase()])).toMatchObject({ ok: false, message: 'participantIds must be distinct' });
    expect(checkParticipants(Array.from({ length: 9 }, (_, i) => `${i}`))).toMatchObject({ ok: false });
  });

  it('bounds the duration', () => {
    expect(checkDuration(9, 10)).toMatchObject({ ok: false, field: 'durationSeconds' });
    expect(checkDuration(10, 10)).toEqual({ ok: true });
    expect(checkDuration(86400, 10)).toEqual({ ok: true });
    expect(checkDuration(86401, 10)).toMatchObject({ ok: false });
    expect(checkDuration(12.5, 10)).toMatchObject({ ok: false });
  });

  describe('votes', () => {
    const base = { status: 'live' as const, endsAtMs: 2000, nowMs: 1000, participantIds: [A, B], voterId: V, participantId: A };
    it('accepts a vote for a participant while live', () => expect(decideVote(base)).toEqual({ ok: true }));
    it('refuses participants first (403 even once ended)', () => {
      expect(decideVote({ ...base, voterId: A })).toMatchObject({ ok: false, error: 'forbidden' });
      expect(decideVote({ ...base, voterId: B, status: 'ended' })).toMatchObject({ ok: false, error: 'forbidden' });
    });
    it('refuses after the end, by status or by time', () => {
      expect(decideVote({ ...base, status: 'ended' })).toMatchObject({ ok: false, error: 'conflict' });
      expect(decideVote({ ...base, nowMs: 2000 })).toMatchObject({ ok: false, error: 'conflict' });
    });
    it('refuses a vote for someone who is not a participant', () => {
      expect(decideVote({ ...base, participantId: C })).toMatchObject({ ok: false, error: 'bad_request', field: 'participantId' });
    });
  });

  it('ends a live battle once its time is up', () => {
    expect(decideEnd('live', 2000, 1500)).toEqual({ end: false, notDueMs: 500 });
    expect(decideEnd('live', 2000, 2000)).toEqual({ end: true });
    expect(decideEnd('ended', 2000, 3000)).toEqual({ end: false });
  });

  describe('result', () => {
    const t = (votes: number[]): Tally[] => [A, B, C].slice(0, votes.length).map((userId, i) => ({ userId, position: i, votes: votes[i] }));
    it('gives the whole prize to a single winner', () => {
      expect(decideResult(t([3, 5, 1]), 1000n)).toEqual({ winnerId: B, top: [B], shares: [{ userId: B, amount: 1000n }], prizeOutcome: 'paid' });
    });
    it('makes a tie a draw and splits the prize, remainder to the first listed', () => {
      const r = decideResult(t([4, 1, 4]), 1001n);
      expect(r.winnerId).toBeNull();
      expect(r.top).toEqual([A, C]);
      expect(r.shares).toEqual([
        { userId: A, amount: 501n },
        { userId: C, amount: 500n },
      ]);
      expect(r.prizeOutcome).toBe('split');
    });
    it('never pays more or less than the prize, and drops zero shares', () => {
      for (const prize of [1n, 2n, 7n, 100n, 10n ** 20n + 3n]) {
        const r = decideResult(t([2, 2, 2]), prize);
        expect(r.shares.reduce((s, x) => s + x.amount, 0n)).toBe(prize);
        expect(r.shares.every((s) => s.amount > 0n)).toBe(true);
      }
    });
    it('refunds the prize when nobody voted', () => {
      expect(decideResult(t([0, 0]), 50n)).toEqual({ winnerId: null, top: [], shares: [], prizeOutcome: 'refunded' });
      expect(decideResult(t([0, 0]), null)).toEqual({ winnerId: null, top: [], shares: [], prizeOutcome: null });
    });
    it('names a winner without a prize', () => {
      expect(decideResult(t([1, 0]), null)).toEqual({ winnerId: A, top: [A], shares: [], prizeOutcome: null });
    });
  });

  it('splits evenly', () => {
    expect(splitEvenly(10n, 3)).toEqual([4n, 3n, 3n]);
    expect(splitEvenly(9n, 3)).toEqual([3n, 3n, 3n]);
    expect(() => splitEvenly(1n, 0)).toThrow();
  });
});

describe('vote log', () => {
  const at = new Date('2026-01-02T03:04:05.678Z');
  const votes = [
    { seq: 2, voterId: C, participantId: B, at },
    { seq: 1, voterId: V, participantId: A, at },
  ];

  it('pseudonymises voters per battle', () => {
    expect(pseudonym('salt-1', V)).toMatch(/^[0-9a-f]{32}$/);
    expect(pseudonym('salt-1', V)).toBe(pseudonym('salt-1', V.toUpperCase()));
    expect(pseudonym('salt-1', V)).not.toBe(pseudonym('salt-2', V));
    expect(pseudonym('salt-1', V)).not.toBe(pseudonym('salt-1', C));
  });

  it('orders the log by seq and hashes a documented text', () => {
    const entries = toLogEntries('s', votes);
    expect(entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(entries[0]).toEqual({ seq: 1, voter: pseudonym('s', V), participantId: A, at: '2026-01-02T03:04:05.678Z' });
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    const text = `softchat-battle-v1 X\n1 ${entries[0].voter} ${A} ${entries[0].at}\n2 ${entries[1].voter} ${B} ${entries[1].at}\n`;
    expect(hashLog('X', entries)).toBe(createHash('sha256').update(text).digest('hex'));
    expect(hashLog('X', [...entries].reverse())).toBe(hashLog('X', entries));
    expect(hashLog('Y', entries)).not.toBe(hashLog('X', entries));
    expect(hashLog('X', [])).toBe(createHash('sha256').update('softchat-battle-v1 X\n').digest('hex'));
  });

  it('recounts', () => {
    expect(Object.fromEntries(recount(toLogEntries('s', votes)))).toEqual({ [A]: 1, [B]: 1 });
  });
});
