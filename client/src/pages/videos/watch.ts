/**
 * The Watch2Earn player's decisions, as pure functions (no React, no timers): which ad is due,
 * when the next heartbeat goes, what a heartbeat says, which milestones and ads can be claimed,
 * and how a provider link becomes an embed. The server verifies everything from the heartbeats;
 * the player only has to report honestly and often enough.
 */

export type AdPosition = 'pre' | 'mid' | 'post';

export interface VideoAd {
  id: string;
  position: AdPosition;
  offsetSeconds: number;
  durationSeconds: number;
  reward: string;
}

export interface VideoMilestone {
  percent: number;
  reward: string;
}

export interface Video {
  id: string;
  creatorId: string;
  creatorUsername?: string;
  title: string;
  description?: string | null;
  url: string;
  thumbnailUrl: string | null;
  durationSeconds: number;
  viewerCount: number;
  ads: VideoAd[];
  milestones: VideoMilestone[];
  createdAt?: string;
}

/** `POST /api/videos/:id/sessions/:sessionId/heartbeat` answers with the session's progress. */
export interface WatchProgress {
  sessionId: string;
  percentWatched: number;
  watchedSeconds: number;
  completed: boolean;
  milestonesReached: number[];
  ads: { adId: string; reached: boolean; completed: boolean; watchedSeconds: number; durationSeconds: number }[];
}

/** Server end-of-video slack: a post-roll is reached this close to the end (players stop short). */
const POST_ROLL_SLACK_SECONDS = 0.5;

/**
 * The ad to show now, or null. Pre-rolls before any content plays, mid-rolls once the content
 * passed their offset, post-rolls at the end; each ad once per session (`shown`).
 */
export function dueAd(
  ads: VideoAd[],
  p: { positionSeconds: number; durationSeconds: number; ended: boolean },
  shown: ReadonlySet<string>,
): VideoAd | null {
  const nearEnd = p.ended || p.positionSeconds >= p.durationSeconds - Math.min(POST_ROLL_SLACK_SECONDS, p.durationSeconds / 2);
  const order: Record<AdPosition, number> = { pre: 0, mid: 1, post: 2 };
  const due = ads
    .filter((a) => !shown.has(a.id))
    .filter((a) => (a.position === 'pre' ? true : a.position === 'mid' ? p.positionSeconds >= a.offsetSeconds : nearEnd))
    .sort((a, b) => order[a.position] - order[b.position] || a.offsetSeconds - b.offsetSeconds);
  return due[0] ?? null;
}

/**
 * Milliseconds to wait before the next heartbeat. A change (play, pause, an ad starting or
 * ending) is reported as soon as the server's minimum interval allows; otherwise every
 * `intervalMs` while playing. Paused and idle players send nothing (null).
 */
export function heartbeatDelay(p: {
  nowMs: number;
  lastSentMs: number | null;
  intervalMs: number;
  minIntervalMs: number;
  changed: boolean;
  active: boolean;
}): number | null {
  if (p.lastSentMs === null) return 0;
  const since = p.nowMs - p.lastSentMs;
  if (p.changed) return Math.max(0, p.minIntervalMs - since);
  if (!p.active) return null;
  return Math.max(0, p.intervalMs - since);
}

export interface HeartbeatBody {
  positionSeconds: number;
  playing: boolean;
  adId?: string;
}

/** What one heartbeat says: the content position (held still while an ad plays), and the ad if one plays. */
export function heartbeatBody(positionSeconds: number, playing: boolean, adId: string | null): HeartbeatBody {
  const pos = Math.max(0, Math.round((Number.isFinite(positionSeconds) ? positionSeconds : 0) * 1000) / 1000);
  return adId ? { positionSeconds: pos, playing: true, adId } : { positionSeconds: pos, playing };
}

/** Milestones and ads the server says are earned and that this session has not claimed yet. */
export function claimable(progress: Pick<WatchProgress, 'milestonesReached' | 'ads'>, claimed: ReadonlySet<string>) {
  return {
    milestones: progress.milestonesReached.filter((p) => !claimed.has(`m:${p}`)),
    ads: progress.ads.filter((a) => a.completed && !claimed.has(`a:${a.adId}`)).map((a) => a.adId),
  };
}

export type Playback = { kind: 'video'; src: string; hls?: boolean } | { kind: 'embed'; src: string; provider: 'youtube' | 'vimeo' };

const YT_ID = /^[A-Za-z0-9_-]{6,20}$/;

/** A YouTube or Vimeo link becomes the provider's embed player; anything else plays in `<video>`. */
export function playbackFor(url: string, kind?: string): Playback {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { kind: 'video', src: url };
  }
  const host = u.hostname.replace(/^(www|m|player)\./, '');
  let yt: string | null = null;
  if (host === 'youtu.be') yt = u.pathname.slice(1).split('/')[0] || null;
  else if (host === 'youtube.com' || host === 'youtube-nocookie.com') {
    yt = u.pathname === '/watch' ? u.searchParams.get('v') : (/^\/(embed|shorts|live|v)\/([^/?#]+)/.exec(u.pathname)?.[2] ?? null);
  }
  if (yt && YT_ID.test(yt)) return { kind: 'embed', provider: 'youtube', src: `https://www.youtube-nocookie.com/embed/${yt}` };
  if (host === 'vimeo.com') {
    const id = /^\/(?:video\/)?(\d+)/.exec(u.pathname)?.[1];
    if (id) return { kind: 'embed', provider: 'vimeo', src: `https://player.vimeo.com/video/${id}` };
  }
  if (kind === 'embed' || kind === 'iframe') return { kind: 'embed', provider: host.includes('vimeo') ? 'vimeo' : 'youtube', src: url };
  if (kind === 'hls' || u.pathname.endsWith('.m3u8')) return { kind: 'video', src: url, hls: true };
  return { kind: 'video', src: url };
}

/** "1:05", "1:02:03". */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
