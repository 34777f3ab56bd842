/**
 * Creator dashboard data as pure functions: the 30-day series into chart points, SVG geometry
 * for the accessible charts, the live tips feed and milestone wording. Amounts stay decimal
 * strings for display; they become numbers only to draw a chart's height.
 */

export interface AssetAmount {
  asset: string;
  amount: string;
}

export interface DayPoint {
  date: string;
  followers: number;
  newFollowers: number;
  views: number;
  watchSeconds: number;
  tipsCount: number;
  earnings: AssetAmount[];
}

export interface CreatorStats {
  creatorId: string;
  followers: number;
  totalViews: number;
  totalWatchSeconds: number;
  earnings: AssetAmount[];
  tipsCount: number;
  videosCount: number;
  series: DayPoint[];
  updatedAt: string;
}

export interface Tip {
  id: string;
  creatorId: string;
  fromUserId: string;
  fromUsername?: string | null;
  asset: string;
  amount: string;
  fee: string;
  message: string | null;
  videoId?: string | null;
  createdAt: string;
}

export interface Milestone {
  id: string;
  metric: 'followers' | 'views' | 'watch_hours' | 'earnings';
  target: string;
  current: string;
  progress: number;
  achievedAt: string | null;
  estimatedAt: string | null;
  custom?: boolean;
}

export interface CreatorCard {
  creatorId: string;
  username: string;
  followers: number;
  following: boolean;
}

export interface TopContent {
  videoId: string;
  title: string;
  thumbnailUrl: string | null;
  views: number;
  watchSeconds: number;
  tips: AssetAmount[];
}

export interface Point {
  date: string;
  value: number;
}

export type SeriesKey = 'followers' | 'views' | 'newFollowers' | 'tipsCount' | 'watchSeconds';

export const pointsOf = (series: DayPoint[], key: SeriesKey): Point[] => series.map((d) => ({ date: d.date, value: Number(d[key]) || 0 }));

/** One asset's earnings per day (0 on days without any). */
export function earningsPoints(series: DayPoint[], asset: string): Point[] {
  return series.map((d) => ({ date: d.date, value: Number(d.earnings.find((e) => e.asset === asset)?.amount ?? 0) || 0 }));
}

/** Every asset that appears in the earnings, in first-seen order. */
export function earningAssets(stats: Pick<CreatorStats, 'earnings' | 'series'>): string[] {
  const seen = new Set<string>();
  for (const e of stats.earnings) seen.add(e.asset);
  for (const d of stats.series) for (const e of d.earnings) seen.add(e.asset);
  return [...seen];
}

/** SVG polyline points for a line chart of `w`×`h` (y grows downwards; a flat series sits at the bottom). */
export function linePath(points: Point[], w: number, h: number): string {
  if (points.length === 0) return '';
  const max = Math.max(...points.map((p) => p.value), 0);
  const min = Math.min(...points.map((p) => p.value), 0);
  const span = max - min || 1;
  const step = points.length > 1 ? w / (points.length - 1) : 0;
  return points.map((p, i) => `${round(i * step)},${round(h - ((p.value - min) / span) * h)}`).join(' ');
}

/** Bars for a histogram of `w`×`h`: x, width, y and height per point. */
export function bars(points: Point[], w: number, h: number, gap = 2) {
  const max = Math.max(...points.map((p) => p.value), 0) || 1;
  const bw = points.length ? w / points.length : 0;
  return points.map((p, i) => {
    const height = round((Math.max(0, p.value) / max) * h);
    return { x: round(i * bw + gap / 2), width: round(Math.max(0, bw - gap)), y: round(h - height), height, point: p };
  });
}

const round = (n: number) => Math.round(n * 100) / 100;

/** A live tip goes on top; duplicates (the query and the subscription both saw it) are dropped. */
export function addTip(feed: Tip[], tip: Tip, max = 50): Tip[] {
  if (feed.some((t) => t.id === tip.id)) return feed;
  return [tip, ...feed].slice(0, max);
}

const METRIC: Record<Milestone['metric'], string> = {
  followers: 'followers',
  views: 'views',
  watch_hours: 'watch hours',
  earnings: 'earned',
};

export function milestoneLabel(m: Milestone): string {
  // Rounded to 0.01 % first: 0.29 * 100 is 28.999… in floating point.
  const pct = Math.floor(Math.round(Math.min(1, Math.max(0, m.progress)) * 10_000) / 100);
  const head = `${m.current} / ${m.target} ${METRIC[m.metric] ?? m.metric} (${pct}%)`;
  if (m.achievedAt) return `${head}, reached ${m.achievedAt.slice(0, 10)}`;
  if (m.estimatedAt) return `${head}, expected by ${m.estimatedAt.slice(0, 10)}`;
  return head;
}

/** "2 h 5 min" for watch time. */
export function watchTime(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
}
