import { formatAmount } from '../ledger/money';
import type { AssetSymbol } from '../ledger/assets';
import type { CardRow, MilestoneRow, TipRow } from './creator.repository';
import type { TopRow } from './stats.repository';
import { AmountView, DayPoint, displayValue, estimateReachAt, Metric, progress } from './creator.rules';

/** What clients see (docs: /work/prompts/shapes.md). Money as decimal strings, times ISO 8601. */

export interface CreatorCard {
  creatorId: string;
  username: string;
  followers: number;
  following: boolean;
}

export interface TipView {
  id: string;
  creatorId: string;
  fromUserId: string;
  fromUsername: string;
  asset: AssetSymbol;
  /** Gross: what the fan gave. */
  amount: string;
  fee: string;
  /** What reached the creator (amount − fee). */
  net: string;
  message: string | null;
  videoId: string | null;
  createdAt: string;
}

export interface MilestoneView {
  id: string;
  metric: Metric;
  /** For earnings milestones: the asset of the target; null otherwise. */
  asset: AssetSymbol | null;
  target: string;
  current: string;
  progress: number;
  achievedAt: string | null;
  estimatedAt: string | null;
  custom: boolean;
}

export interface CreatorStats {
  creatorId: string;
  followers: number;
  totalViews: number;
  totalWatchSeconds: number;
  earnings: AmountView[];
  tipsCount: number;
  videosCount: number;
  series: DayPoint[];
  milestones: MilestoneView[];
  updatedAt: string;
}

export interface TopContentItem {
  videoId: string;
  title: string;
  thumbnailUrl: string | null;
  views: number;
  watchSeconds: number;
  tipsCount: number;
  tips: AmountView[];
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export const toCard = (r: CardRow): CreatorCard => ({ creatorId: r.id, username: r.username, followers: Number(r.followers), following: !!r.following });

export function toTip(r: TipRow): TipView {
  const amount = BigInt(r.amount);
  const fee = BigInt(r.fee);
  return {
    id: r.id,
    creatorId: r.creator_id,
    fromUserId: r.from_user_id,
    fromUsername: r.from_username,
    asset: r.asset,
    amount: formatAmount(amount, r.asset),
    fee: formatAmount(fee, r.asset),
    net: formatAmount(amount - fee, r.asset),
    message: r.message,
    videoId: r.video_id,
    createdAt: iso(r.created_at)!,
  };
}

/** A milestone with its progress, given the current figures and what the last 7 days added (base units). */
export function toMilestone(r: MilestoneRow, current: bigint, gained: bigint, nowMs: number): MilestoneView {
  const target = BigInt(r.target);
  const achieved = r.achieved_at !== null;
  const eta = achieved ? null : estimateReachAt(current, target, gained, nowMs);
  return {
    id: r.id,
    metric: r.metric,
    asset: r.asset === '' ? null : r.asset,
    target: displayValue(r.metric, r.asset, target),
    current: displayValue(r.metric, r.asset, current),
    progress: progress(current, target, achieved),
    achievedAt: iso(r.achieved_at),
    estimatedAt: eta ? eta.toISOString() : null,
    custom: r.custom,
  };
}

export const toTop = (r: TopRow): TopContentItem => ({
  videoId: r.id,
  title: r.title,
  thumbnailUrl: r.thumbnail_url,
  views: Number(r.views),
  watchSeconds: Number(r.watched_ms) / 1000,
  tipsCount: Number(r.tips_count),
  tips: (r.tips ?? []).map((t) => ({ asset: t.asset, amount: formatAmount(BigInt(t.amount), t.asset) })),
});
