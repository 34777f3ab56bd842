/**
 * Pure rules of the creator economy: who may read what, follow and tip decisions, the tip's
 * fee split, milestone units, progress and the estimated date of reaching a target, and the
 * 30-day series. No database, no Nest: unit-tested in creator.rules.spec.ts.
 */
import { ASSET_SYMBOLS, AssetSymbol, isAssetSymbol } from '../ledger/assets';
import { feeFor, formatAmount, parseAmount } from '../ledger/money';

export const METRICS = ['followers', 'views', 'watch_hours', 'earnings'] as const;
export type Metric = (typeof METRICS)[number];

export const TOP_BY = ['views', 'watchTime', 'tips'] as const;
export type TopBy = (typeof TOP_BY)[number];

/** Longest tip message, in characters. */
export const TIP_MESSAGE_MAX = 280;
export const SERIES_DAYS = 30;
/** The window the estimated date of an open milestone is extrapolated from. */
export const RATE_WINDOW_DAYS = 7;
export const DAY_MS = 86_400_000;

export type Decision = { ok: true } | { ok: false; error: 'forbidden' | 'not_found' | 'unprocessable'; message: string };
const refuse = (error: 'forbidden' | 'not_found' | 'unprocessable', message: string): Decision => ({ ok: false, error, message });
const OK: Decision = { ok: true };

/**
 * Stats, tips and milestones are the creator's and admins'. The caller's right is checked
 * before existence, so a stranger learns nothing (403 whether or not the id is a creator).
 */
export function canReadPrivate(caller: { id: string; admin: boolean }, creatorId: string, isCreator: boolean): Decision {
  if (caller.id !== creatorId && !caller.admin) return refuse('forbidden', "Only the creator and admins may read a creator's stats, tips and milestones");
  if (!isCreator) return refuse('not_found', 'Creator not found');
  return OK;
}

/** Only the creator sets their own targets. */
export function canSetMilestone(callerId: string, creatorId: string, isCreator: boolean): Decision {
  if (callerId !== creatorId) return refuse('forbidden', 'Only the creator may set their milestones');
  if (!isCreator) return refuse('not_found', 'Creator not found');
  return OK;
}

export function decideFollow(fanId: string, creatorId: string, isCreator: boolean): Decision {
  if (!isCreator) return refuse('not_found', 'Creator not found');
  if (fanId === creatorId) return refuse('unprocessable', 'You cannot follow yourself');
  return OK;
}

export interface TipPlan {
  asset: AssetSymbol;
  /** What the fan pays (gross). */
  amount: bigint;
  /** The platform's part, its own movement to the fee account. */
  fee: bigint;
  /** What the creator receives. */
  net: bigint;
  message: string | null;
}

/**
 * Validates a tip and splits it: the fan pays `amount`; `fee = amount × bps / 10000` (rounded up to the next minor unit, see `feeFor`)
 * goes to the fee account and the rest to the creator. Throws MoneyFormatError (400 naming
 * the field) for a bad amount; returns a refusal for the business rules.
 */
export function planTip(
  input: { asset: string; amount: unknown; message?: unknown },
  feeBps: number,
  fanId: string,
  creatorId: string,
  isCreator: boolean,
): { ok: true; plan: TipPlan } | { ok: false; error: 'not_found' | 'unprocessable' | 'bad_request'; message: string } {
  if (!isAssetSymbol(input.asset)) return { ok: false, error: 'bad_request', message: `asset must be one of ${ASSET_SYMBOLS.join(', ')}` };
  const amount = parseAmount(input.amount, input.asset, 'amount');
  const msg = normaliseMessage(input.message);
  if (!msg.ok) return { ok: false, error: 'bad_request', message: msg.message };
  const message = msg.value;
  if (!isCreator) return { ok: false, error: 'not_found', message: 'Creator not found' };
  if (fanId === creatorId) return { ok: false, error: 'unprocessable', message: 'You cannot tip yourself' };
  const fee = feeFor(amount, feeBps);
  const net = amount - fee;
  if (net <= 0n) return { ok: false, error: 'unprocessable', message: `amount is too small: after the ${feeBps / 100}% fee nothing reaches the creator` };
  return { ok: true, plan: { asset: input.asset, amount, fee, net, message } };
}

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Trimmed message, null when empty; at most TIP_MESSAGE_MAX characters (not UTF-16 units), no control characters. */
export function normaliseMessage(raw: unknown): { ok: true; value: string | null } | { ok: false; message: string } {
  if (raw === undefined || raw === null) return { ok: true, value: null };
  if (typeof raw !== 'string') return { ok: false, message: 'message must be a string' };
  const m = raw.trim();
  if (!m) return { ok: true, value: null };
  if ([...m].length > TIP_MESSAGE_MAX) return { ok: false, message: `message must be at most ${TIP_MESSAGE_MAX} characters` };
  if (CONTROL.test(m)) return { ok: false, message: 'message must not contain control characters' };
  return { ok: true, value: m };
}

// ------------------------------------------------------------------ milestones

/**
 * Milestones are compared in base units: followers and views are counts, watch hours are
 * kept in seconds, earnings in the asset's minor units.
 */
export const SECONDS_PER_HOUR = 3600n;

/** Creator-defined targets per creator (they all travel in every stats payload). */
export const MAX_CUSTOM_MILESTONES = 50;

export interface LadderStep {
  metric: Metric;
  asset: AssetSymbol | '';
  target: bigint;
}

/** The default ladder every creator starts with. Earnings goals are in USD. */
export const DEFAULT_LADDER: readonly LadderStep[] = [
  ...[10n, 100n, 1_000n, 10_000n, 100_000n].map((t) => ({ metric: 'followers' as const, asset: '' as const, target: t })),
  ...[100n, 1_000n, 10_000n, 100_000n, 1_000_000n].map((t) => ({ metric: 'views' as const, asset: '' as const, target: t })),
  ...[1n, 10n, 100n, 1_000n, 10_000n].map((t) => ({ metric: 'watch_hours' as const, asset: '' as const, target: t * SECONDS_PER_HOUR })),
  ...[10n, 100n, 1_000n, 10_000n].map((t) => ({ metric: 'earnings' as const, asset: 'USD' as const, target: t * 100n })),
];

const COUNT_RE = /^[0-9]{1,15}$/;
const HOURS_RE = /^([0-9]{1,9})(?:\.([0-9]{1,2}))?$/;

/**
 * A creator-defined target to base units: a whole number of followers or views, watch hours
 * with up to 2 decimals (0.01 h = 36 s), or an amount of `asset` (USD when left out).
 */
export function parseTarget(
  metric: string,
  raw: unknown,
  rawAsset?: string | null,
): { ok: true; step: LadderStep } | { ok: false; message: string } {
  if (!(METRICS as readonly string[]).includes(metric)) return { ok: false, message: `metric must be one of ${METRICS.join(', ')}` };
  const m = metric as Metric;
  if (m !== 'earnings' && rawAsset !== undefined && rawAsset !== null && rawAsset !== '') {
    return { ok: false, message: 'asset is only for earnings milestones' };
  }
  const s = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : raw;
  if (typeof s !== 'string') return { ok: false, message: 'target must be a decimal string (e.g. "1000")' };
  if (m === 'earnings') {
    const asset = rawAsset ?? 'USD';
    if (!isAssetSymbol(asset)) return { ok: false, message: `asset must be one of ${ASSET_SYMBOLS.join(', ')}` };
    try {
      return { ok: true, step: { metric: m, asset, target: parseAmount(s, asset, 'target') } };
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
  }
  if (m === 'watch_hours') {
    const h = HOURS_RE.exec(s);
    if (!h) return { ok: false, message: 'target must be a number of hours with at most 2 decimals (e.g. "10" or "2.5")' };
    const hundredths = BigInt(h[1]) * 100n + BigInt((h[2] ?? '').padEnd(2, '0') || '0');
    if (hundredths === 0n) return { ok: false, message: 'target must be greater than zero' };
    return { ok: true, step: { metric: m, asset: '', target: (hundredths * SECONDS_PER_HOUR) / 100n } };
  }
  if (!COUNT_RE.test(s)) return { ok: false, message: 'target must be a whole number (e.g. "1000")' };
  const n = BigInt(s);
  if (n === 0n) return { ok: false, message: 'target must be greater than zero' };
  return { ok: true, step: { metric: m, asset: '', target: n } };
}

/** Base units to what clients see: counts, hours with 2 decimals (rounded down), or an amount. */
export function displayValue(metric: Metric, asset: AssetSymbol | '', base: bigint): string {
  if (metric === 'earnings') return formatAmount(base, asset as AssetSymbol);
  if (metric === 'watch_hours') {
    const hundredths = (base * 100n) / SECONDS_PER_HOUR;
    return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}`;
  }
  return base.toString();
}

/** 0..1, with 4 decimals; 1 once achieved (even if the figure fell back since). */
export function progress(current: bigint, target: bigint, achieved: boolean): number {
  if (achieved || current >= target) return 1;
  if (current <= 0n) return 0;
  return Number((current * 10_000n) / target) / 10_000;
}

/**
 * When an open milestone will be reached if the last window's rate holds: now + what is
 * missing × window / gained. Null once reached, or when nothing was gained in the window.
 */
export function estimateReachAt(current: bigint, target: bigint, gainedInWindow: bigint, nowMs: number, windowMs = RATE_WINDOW_DAYS * DAY_MS): Date | null {
  if (current >= target || gainedInWindow <= 0n) return null;
  const missing = target - current;
  const ms = (missing * BigInt(windowMs) + gainedInWindow - 1n) / gainedInWindow; // rounded up
  const at = BigInt(nowMs) + ms;
  // Beyond what a Date holds (e.g. a million years away): no meaningful estimate.
  if (at > 8_640_000_000_000_000n) return null;
  return new Date(Number(at));
}

// ------------------------------------------------------------------ series

export interface AmountView {
  asset: AssetSymbol;
  amount: string;
}

export interface DayPoint {
  date: string;
  followers: number;
  newFollowers: number;
  views: number;
  watchSeconds: number;
  tipsCount: number;
  earnings: AmountView[];
}

export interface DayRows {
  /** Net follows before the first day (the followers at its start). */
  followersBefore: number;
  follows: { day: string; net: number; added: number }[];
  watching: { day: string; views: number; watchedMs: number }[];
  tips: { day: string; asset: AssetSymbol; count: number; net: bigint }[];
}

/** The UTC dates of the last `days` days, oldest first, ending today. */
export function lastDays(nowMs: number, days = SERIES_DAYS): string[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

/** Fills every day (zeros where nothing happened); `followers` is cumulative at day end. */
export function buildSeries(dates: string[], rows: DayRows): DayPoint[] {
  const follows = new Map(rows.follows.map((f) => [f.day, f]));
  const watching = new Map(rows.watching.map((w) => [w.day, w]));
  const tips = new Map<string, { count: number; byAsset: Map<AssetSymbol, bigint> }>();
  for (const t of rows.tips) {
    const d = tips.get(t.day) ?? { count: 0, byAsset: new Map() };
    d.count += t.count;
    d.byAsset.set(t.asset, (d.byAsset.get(t.asset) ?? 0n) + t.net);
    tips.set(t.day, d);
  }
  let followers = rows.followersBefore;
  return dates.map((date) => {
    const f = follows.get(date);
    followers += f?.net ?? 0;
    const w = watching.get(date);
    const t = tips.get(date);
    return {
      date,
      followers,
      newFollowers: f?.added ?? 0,
      views: w?.views ?? 0,
      watchSeconds: (w?.watchedMs ?? 0) / 1000,
      tipsCount: t?.count ?? 0,
      earnings: amounts(t?.byAsset ?? new Map()),
    };
  });
}

/** Sorted by asset, zero amounts left out. */
export function amounts(byAsset: Map<AssetSymbol, bigint>): AmountView[] {
  return [...byAsset.entries()]
    .filter(([, v]) => v !== 0n)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([asset, v]) => ({ asset, amount: formatAmount(v, asset) }));
}

/** What each metric gained over the last RATE_WINDOW_DAYS days of the series, in base units. */
export function windowGains(series: DayPoint[], rows: DayRows): { followers: bigint; views: bigint; watchSeconds: bigint; earnings: Map<string, bigint> } {
  const n = series.length;
  const recent = series.slice(Math.max(0, n - RATE_WINDOW_DAYS));
  const before = n > RATE_WINDOW_DAYS ? series[n - RATE_WINDOW_DAYS - 1].followers : rows.followersBefore;
  const days = new Set(recent.map((d) => d.date));
  const earnings = new Map<string, bigint>();
  for (const t of rows.tips) if (days.has(t.day)) earnings.set(t.asset, (earnings.get(t.asset) ?? 0n) + t.net);
  return {
    followers: BigInt((series[n - 1]?.followers ?? before) - before),
    views: BigInt(recent.reduce((s, d) => s + d.views, 0)),
    watchSeconds: BigInt(Math.floor(recent.reduce((s, d) => s + d.watchSeconds, 0))),
    earnings,
  };
}
