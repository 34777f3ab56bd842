import { formatAmount } from '../ledger/money';
import type { BattleStatus } from './battle.machine';
import type { BattleRow, ParticipantRow } from './battles.repository';

/** The contract's Battle (shapes.md), plus a few fields users expect. Money as decimal strings. */
export interface BattleView {
  id: string;
  title: string;
  status: BattleStatus;
  participants: { userId: string; username: string; votes: number; prize: string | null }[];
  viewerCount: number;
  totalVotes: number;
  durationSeconds: number;
  endsAt: string;
  winnerId: string | null;
  /** Everyone with the top score once ended (one on a win, several on a draw, none without votes). */
  winnerIds: string[];
  createdBy: string;
  createdAt: string;
  endedAt: string | null;
  prize: { asset: string; amount: string } | null;
  prizeOutcome: 'paid' | 'split' | 'refunded' | null;
  /** The participant the caller voted for. */
  myVote: string | null;
  /** Hex SHA-256 of the vote log once ended. */
  resultHash: string | null;
}

export interface BattleUpdateView {
  battleId: string;
  votes: { userId: string; votes: number }[];
  viewerCount: number;
  status: BattleStatus;
  winnerId: string | null;
  endsAt: string;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function toBattleView(b: BattleRow, participants: ParticipantRow[], viewerCount: number, myVote: string | null): BattleView {
  const ended = b.status === 'ended';
  const totalVotes = participants.reduce((sum, p) => sum + Number(p.votes), 0);
  const top = ended && totalVotes > 0 ? Math.max(...participants.map((p) => Number(p.votes))) : null;
  return {
    id: b.id,
    title: b.title,
    status: b.status,
    participants: participants.map((p) => ({
      userId: p.user_id,
      username: p.username,
      votes: Number(p.votes),
      prize: p.prize_amount !== null && b.prize_asset ? formatAmount(BigInt(p.prize_amount), b.prize_asset) : null,
    })),
    viewerCount,
    totalVotes,
    durationSeconds: Number(b.duration_seconds),
    endsAt: iso(b.ends_at)!,
    winnerId: b.winner_id,
    winnerIds: top === null ? [] : participants.filter((p) => Number(p.votes) === top).map((p) => p.user_id),
    createdBy: b.created_by,
    createdAt: iso(b.created_at)!,
    endedAt: iso(b.ended_at),
    prize: b.prize_asset && b.prize_amount !== null ? { asset: b.prize_asset, amount: formatAmount(BigInt(b.prize_amount), b.prize_asset) } : null,
    prizeOutcome: b.prize_outcome,
    myVote,
    resultHash: b.result_hash ? b.result_hash.trim() : null,
  };
}
