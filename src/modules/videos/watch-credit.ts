/**
 * Verified watch time, as pure functions (no database, no Nest).
 *
 * A session's heartbeats report the content position and whether the player is playing (and
 * which ad, while one plays). The server measures time with its own clock, never the
 * client's, and credits:
 *
 * - **content**: how far the position moved forward, but never more than the wall-clock
 *   allowance. The allowance is a leaky bucket: it grows with the real time between two
 *   heartbeats (a gap longer than `maxGapMs` counts as `maxGapMs`: a player that stops
 *   reporting earns nothing for the silence) and carries at most `toleranceMs` of unused time
 *   from one interval to the next (network jitter). So the credited total never exceeds the
 *   real time the session has been open, a seek forward earns only the time that actually
 *   passed, and a seek back or a pause earns nothing.
 * - **ads**: while a heartbeat carries `adId`, the same allowance (what the content did not
 *   use) goes to that ad, once its slot has been reached: a pre-roll when the session starts,
 *   a mid-roll when the position passes its offset, a post-roll at the end. An ad is watched
 *   when it got its whole duration.
 * - heartbeats are rate limited by a token bucket: one heartbeat costs `minIntervalMs`, the
 *   bucket refills with real time and holds at most `burst` heartbeats. A session starts with a
 *   full bucket (a player reports as soon as it plays) and ordinary jitter around the interval
 *   is absorbed; a flood is refused (429), and parallel heartbeats on one session earn nothing
 *   more since credit is bounded by the clock anyway.
 *
 * One active session per user and video is enforced by the caller (a new session supersedes
 * the old one), so parallel sessions cannot add up either.
 */

export type AdPosition = 'pre' | 'mid' | 'post';

export interface AdSlot {
  id: string;
  position: AdPosition;
  offsetMs: number;
  durationMs: number;
}

export interface VideoTiming {
  durationMs: number;
  ads: AdSlot[];
}

export interface AdProgress {
  /** When the session reached the ad's slot (server clock, ms). */
  reachedAtMs: number | null;
  /** First heartbeat that carried this ad after its slot was reached: an impression. */
  startedAtMs: number | null;
  watchedMs: number;
  completedAtMs: number | null;
}

export interface WatchState {
  startedAtMs: number;
  lastAtMs: number;
  lastPositionMs: number;
  lastPlaying: boolean;
  lastAdId: string | null;
  tokensMs: number;
  /** Heartbeat rate bucket, in ms of interval: a heartbeat needs (and spends) `minIntervalMs`. */
  beatBudgetMs: number;
  watchedMs: number;
  adWatchedMs: number;
  maxPositionMs: number;
  /** Bit i set: the session played part of the i-th 5 % slice of the video. */
  buckets: number;
  heartbeats: number;
  seeks: number;
  ads: Record<string, AdProgress>;
}

export interface Beat {
  /** Server time of the heartbeat, ms. */
  atMs: number;
  positionMs: number;
  playing: boolean;
  adId?: string | null;
}

export interface CreditRules {
  minIntervalMs: number;
  /** Heartbeats the rate bucket holds (>= 1). */
  burst: number;
  toleranceMs: number;
  maxGapMs: number;
}

export type BeatOutcome =
  | { ok: true; state: WatchState; creditedMs: number; adCreditedMs: number; seek: boolean }
  | { ok: false; retryAfterMs: number };

export const BUCKETS = 20;
export const LAST_BUCKET_BIT = 1 << (BUCKETS - 1);
/** A post-roll slot is reached this close to the end (players stop a few frames short). */
export const POST_ROLL_SLACK_MS = 500;

export function slotReached(ad: AdSlot, positionMs: number, durationMs: number): boolean {
  switch (ad.position) {
    case 'pre':
      return true;
    case 'mid':
      return positionMs >= ad.offsetMs;
    case 'post':
      return positionMs >= durationMs - Math.min(POST_ROLL_SLACK_MS, durationMs / 2);
  }
}

/** The rate bucket's size: `burst` heartbeats. */
export const beatCapacityMs = (rules: Pick<CreditRules, 'minIntervalMs' | 'burst'>) => rules.minIntervalMs * Math.max(1, rules.burst);

/**
 * A new session. It starts with the jitter tolerance in hand (a player may start a moment
 * before the session does) and, given `beatBudgetMs`, a full heartbeat bucket.
 */
export function initialState(startedAtMs: number, video: VideoTiming, toleranceMs = 0, beatBudgetMs = 0): WatchState {
  const ads: Record<string, AdProgress> = {};
  for (const ad of video.ads) {
    ads[ad.id] = { reachedAtMs: ad.position === 'pre' ? startedAtMs : null, startedAtMs: null, watchedMs: 0, completedAtMs: null };
  }
  return {
    startedAtMs,
    lastAtMs: startedAtMs,
    lastPositionMs: 0,
    lastPlaying: false,
    lastAdId: null,
    tokensMs: toleranceMs,
    beatBudgetMs,
    watchedMs: 0,
    adWatchedMs: 0,
    maxPositionMs: 0,
    buckets: 0,
    heartbeats: 0,
    seeks: 0,
    ads,
  };
}

/** The bits of the 5 % slices that [fromMs, toMs) overlaps. */
export function bucketMask(fromMs: number, toMs: number, durationMs: number): number {
  if (toMs <= fromMs || durationMs <= 0) return 0;
  const first = Math.max(0, Math.min(BUCKETS - 1, Math.floor((fromMs * BUCKETS) / durationMs)));
  const last = Math.max(0, Math.min(BUCKETS - 1, Math.floor(((toMs - 1) * BUCKETS) / durationMs)));
  let mask = 0;
  for (let b = first; b <= last; b++) mask |= 1 << b;
  return mask;
}

export function applyHeartbeat(prev: WatchState, beat: Beat, video: VideoTiming, rules: CreditRules): BeatOutcome {
  const sinceLast = Math.max(0, beat.atMs - prev.lastAtMs);
  const budget = Math.min(beatCapacityMs(rules), prev.beatBudgetMs + sinceLast);
  if (budget < rules.minIntervalMs) return { ok: false, retryAfterMs: rules.minIntervalMs - budget };

  const elapsed = Math.min(sinceLast, rules.maxGapMs);
  const position = Math.max(0, Math.min(Math.round(beat.positionMs), video.durationMs));
  const active = prev.lastPlaying || beat.playing;
  let tokens = Math.min(prev.tokensMs + elapsed, elapsed + rules.toleranceMs);

  const ads: Record<string, AdProgress> = {};
  for (const [id, p] of Object.entries(prev.ads)) ads[id] = { ...p };
  const state: WatchState = { ...prev, ads };

  // Content: forward movement, as far as the clock allows.
  const delta = position - prev.lastPositionMs;
  let credited = 0;
  let seek = false;
  if (delta > 0) {
    if (active) credited = Math.min(delta, tokens);
    seek = delta > elapsed + rules.toleranceMs;
  } else if (delta < 0) {
    seek = true;
  }
  tokens -= credited;
  state.watchedMs += credited;
  // Which part was played is only known for continuous playback, not across a jump.
  if (credited > 0 && !seek) state.buckets |= bucketMask(position - credited, position, video.durationMs);
  state.maxPositionMs = Math.max(prev.maxPositionMs, position);

  // Ad slots the position has reached.
  for (const ad of video.ads) {
    const p = (state.ads[ad.id] ??= { reachedAtMs: null, startedAtMs: null, watchedMs: 0, completedAtMs: null });
    if (p.reachedAtMs === null && slotReached(ad, position, video.durationMs)) p.reachedAtMs = beat.atMs;
  }

  // Ad time: what the content did not use, to the ad this heartbeat says is playing.
  let adCredited = 0;
  const ad = beat.adId ? video.ads.find((a) => a.id === beat.adId) : undefined;
  if (ad) {
    const p = state.ads[ad.id];
    if (p.reachedAtMs !== null) {
      if (p.startedAtMs === null) p.startedAtMs = beat.atMs;
      if (active) adCredited = Math.max(0, Math.min(tokens, ad.durationMs - p.watchedMs));
      p.watchedMs += adCredited;
      tokens -= adCredited;
      if (p.completedAtMs === null && p.watchedMs >= ad.durationMs) p.completedAtMs = beat.atMs;
    }
  }
  state.adWatchedMs += adCredited;

  state.tokensMs = Math.max(0, Math.round(tokens));
  state.beatBudgetMs = Math.max(0, Math.round(budget - rules.minIntervalMs));
  state.lastAtMs = beat.atMs;
  state.lastPositionMs = position;
  state.lastPlaying = beat.playing;
  state.lastAdId = ad ? ad.id : null;
  state.heartbeats += 1;
  if (seek) state.seeks += 1;
  return { ok: true, state, creditedMs: credited, adCreditedMs: adCredited, seek };
}

/** Verified milliseconds needed for a milestone (`percent` of the duration, rounded up). */
export function milestoneNeedMs(percent: number, durationMs: number): number {
  return Math.ceil((percent * durationMs) / 100);
}

export function completed(state: Pick<WatchState, 'buckets'>): boolean {
  return (state.buckets & LAST_BUCKET_BIT) !== 0;
}
