/**
 * The battle rules, and nothing else. Pure: no database, no Nest.
 *
 *   live ──(endsAt passes; the end job or the sweep)──▶ ended      (once: a conditional UPDATE)
 *
 * Votes: one per user per battle, only while live and before `endsAt`, never by a participant
 * in their own battle, only for one of its participants. Who asks is checked before the state
 * (a participant voting in their ended battle hears 403, not 409).
 *
 * Result: the participant with the most votes wins. A tie at the top is a draw: `winnerId` is
 * null and the tied participants share the prize evenly; the minor units that do not divide
 * evenly go one each to the tied participants in the order the creator listed them. No votes at
 * all: no winner, and the prize goes back to the creator.
 */

export const BATTLE_STATUSES = ['live', 'ended'] as const;
export type BattleStatus = (typeof BATTLE_STATUSES)[number];

export const MIN_PARTICIPANTS = 2;
export const MAX_PARTICIPANTS = 8;
export const MAX_DURATION_SECONDS = 86_400;

export type Refusal = { ok: false; error: 'bad_request' | 'forbidden' | 'conflict' | 'unprocessable'; message: string; field?: string };
export type Ok<T = object> = { ok: true } & T;

/** Participant ids as listed by the creator: 2–8 distinct. (Roles and existence are checked against the database.) */
export function checkParticipants(ids: readonly string[]): Ok | Refusal {
  const norm = ids.map((id) => id.toLowerCase());
  if (norm.length < MIN_PARTICIPANTS || norm.length > MAX_PARTICIPANTS) {
    return { ok: false, error: 'bad_request', field: 'participantIds', message: `participantIds must list ${MIN_PARTICIPANTS} to ${MAX_PARTICIPANTS} creators` };
  }
  if (new Set(norm).size !== norm.length) {
    return { ok: false, error: 'bad_request', field: 'participantIds', message: 'participantIds must be distinct' };
  }
  return { ok: true };
}

export function checkDuration(seconds: number, minSeconds: number): Ok | Refusal {
  if (!Number.isInteger(seconds) || seconds < minSeconds || seconds > MAX_DURATION_SECONDS) {
    return {
      ok: false,
      error: 'bad_request',
      field: 'durationSeconds',
      message: `durationSeconds must be an integer between ${minSeconds} and ${MAX_DURATION_SECONDS}`,
    };
  }
  return { ok: true };
}

export interface VoteFacts {
  status: BattleStatus;
  endsAtMs: number;
  nowMs: number;
  participantIds: readonly string[];
  voterId: string;
  participantId: string;
}

/** May this user vote for this participant now? (The one-vote rule is the database's unique constraint.) */
export function decideVote(f: VoteFacts): Ok | Refusal {
  if (f.participantIds.includes(f.voterId)) {
    return { ok: false, error: 'forbidden', message: 'Participants cannot vote in their own battle' };
  }
  if (f.status !== 'live' || f.nowMs >= f.endsAtMs) {
    return { ok: false, error: 'conflict', message: 'The battle has ended; votes are closed' };
  }
  if (!f.participantIds.includes(f.participantId)) {
    return { ok: false, error: 'bad_request', field: 'participantId', message: 'participantId must be one of the battle participants' };
  }
  return { ok: true };
}

/** The end may happen once the battle is live and its time is up; `notDueMs` when it is early. */
export function decideEnd(status: BattleStatus, endsAtMs: number, nowMs: number): { end: true } | { end: false; notDueMs?: number } {
  if (status !== 'live') return { end: false };
  if (nowMs < endsAtMs) return { end: false, notDueMs: endsAtMs - nowMs };
  return { end: true };
}

export interface Tally {
  userId: string;
  position: number;
  votes: number;
}

export interface Share {
  userId: string;
  amount: bigint;
}

export interface Result {
  /** The single winner, or null on a draw or when nobody voted. */
  winnerId: string | null;
  /** Everyone with the top score (empty when nobody voted). */
  top: string[];
  /** What each top participant receives from the prize (empty without a prize or without votes). */
  shares: Share[];
  /** null without a prize. */
  prizeOutcome: 'paid' | 'split' | 'refunded' | null;
}

/** Splits `amount` minor units among `n` evenly; the first `amount mod n` get one more. */
export function splitEvenly(amount: bigint, n: number): bigint[] {
  if (n <= 0) throw new Error('splitEvenly needs at least one share');
  const shares = BigInt(n);
  const each = amount / shares;
  const rest = amount % shares; // stays bigint: no amount passes through a float
  return Array.from({ length: n }, (_, i) => each + (BigInt(i) < rest ? 1n : 0n));
}

export function decideResult(tallies: readonly Tally[], prize: bigint | null): Result {
  const total = tallies.reduce((s, t) => s + t.votes, 0);
  if (total === 0) return { winnerId: null, top: [], shares: [], prizeOutcome: prize ? 'refunded' : null };
  const best = Math.max(...tallies.map((t) => t.votes));
  const top = tallies.filter((t) => t.votes === best).sort((a, b) => a.position - b.position);
  const winnerId = top.length === 1 ? top[0].userId : null;
  if (!prize) return { winnerId, top: top.map((t) => t.userId), shares: [], prizeOutcome: null };
  const amounts = splitEvenly(prize, top.length);
  return {
    winnerId,
    top: top.map((t) => t.userId),
    shares: top.map((t, i) => ({ userId: t.userId, amount: amounts[i] })).filter((s) => s.amount > 0n),
    prizeOutcome: top.length === 1 ? 'paid' : 'split',
  };
}
