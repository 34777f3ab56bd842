/**
 * Battle state on the client, as pure functions: merging live updates (`battleUpdated`,
 * `battle_update`, `battle_ended`) into the battle, ordering the list, and wording.
 */

export interface Participant {
  userId: string;
  username: string;
  votes: number;
}

export interface Battle {
  id: string;
  title: string;
  status: 'live' | 'ended';
  participants: Participant[];
  viewerCount: number;
  endsAt: string;
  winnerId: string | null;
  createdBy?: string;
  createdAt?: string;
  endedAt?: string | null;
  prize?: { asset: string; amount: string } | null;
  myVote?: string | null;
  resultHash?: string | null;
}

export interface BattleUpdate {
  battleId: string;
  votes?: { userId: string; votes: number }[] | null;
  viewerCount?: number | null;
  status?: 'live' | 'ended' | null;
  winnerId?: string | null;
  endsAt?: string | null;
  resultHash?: string | null;
}

/** Applies a live update; counts only grow (an older, smaller tally arriving late is ignored). */
export function applyUpdate(b: Battle, u: BattleUpdate): Battle {
  if (u.battleId !== b.id) return b;
  const votes = new Map((u.votes ?? []).map((v) => [v.userId, v.votes]));
  const ended = b.status === 'ended' || u.status === 'ended';
  return {
    ...b,
    participants: b.participants.map((p) => (votes.has(p.userId) ? { ...p, votes: Math.max(p.votes, votes.get(p.userId)!) } : p)),
    viewerCount: u.viewerCount ?? b.viewerCount,
    status: ended ? 'ended' : 'live',
    winnerId: u.winnerId !== undefined && u.winnerId !== null ? u.winnerId : b.winnerId,
    endsAt: u.endsAt ?? b.endsAt,
    resultHash: u.resultHash ?? b.resultHash ?? null,
  };
}

/** Live battles first (ending soonest first), then ended ones (most recent first). */
export function sortBattles(list: Battle[]): Battle[] {
  return [...list].sort((a, b) => {
    if (a.status !== b.status) return a.status === 'live' ? -1 : 1;
    const ta = Date.parse(a.endsAt);
    const tb = Date.parse(b.endsAt);
    return a.status === 'live' ? ta - tb : tb - ta;
  });
}

/** The contract's wording for a tally: `N votes`. */
export const votesText = (n: number) => `${n} votes`;

export const totalVotes = (b: Battle) => b.participants.reduce((s, p) => s + p.votes, 0);

/** Share of the votes, 0..100, for a bar. */
export const share = (b: Battle, p: Participant) => {
  const t = totalVotes(b);
  return t ? Math.round((p.votes / t) * 100) : 0;
};

export function winnerName(b: Battle): string | null {
  if (b.status !== 'ended') return null;
  if (!b.winnerId) return null;
  return b.participants.find((p) => p.userId === b.winnerId)?.username ?? null;
}

/** Whether an error from voting says "already voted" (REST 409 `ALREADY_VOTED`, GraphQL or socket ack). */
export function isAlreadyVoted(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const o = e as { code?: unknown; message?: unknown; status?: unknown; extensions?: { code?: unknown } };
  if (o.code === 'ALREADY_VOTED' || o.extensions?.code === 'ALREADY_VOTED') return true;
  return typeof o.message === 'string' && /ALREADY_VOTED|already voted/i.test(o.message);
}

/** Creating a battle: field-named problems, or none. */
export function checkNewBattle(b: { title: string; participantIds: string[]; durationSeconds: number }): string[] {
  const problems: string[] = [];
  if (!b.title.trim()) problems.push('Title is required');
  if (new Set(b.participantIds).size < 2) problems.push('Choose at least two different participants');
  if (!Number.isInteger(b.durationSeconds) || b.durationSeconds < 10 || b.durationSeconds > 86400) problems.push('Duration must be between 10 and 86400 seconds');
  return problems;
}

/** A fresh read of the battle merged with what live updates already showed (nothing goes backwards). */
export function mergeBattle(prev: Battle | null, fresh: Battle): Battle {
  if (!prev || prev.id !== fresh.id) return fresh;
  const merged = applyUpdate(fresh, {
    battleId: fresh.id,
    votes: prev.participants.map((p) => ({ userId: p.userId, votes: p.votes })),
    status: prev.status,
    winnerId: fresh.winnerId ?? prev.winnerId,
    resultHash: fresh.resultHash ?? prev.resultHash ?? null,
  });
  return { ...merged, myVote: fresh.myVote ?? prev.myVote ?? null };
}
