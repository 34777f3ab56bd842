/**
 * Pure rules for publishing videos: ad slot placement and thumbnails. No database, no Nest.
 */
import type { AdPosition } from './watch-credit';

export const MAX_DURATION_SECONDS = 86_400;
export const MAX_AD_SECONDS = 300;
export const MAX_ADS = 10;
export const MAX_MILESTONES = 10;

export interface AdInput {
  position: AdPosition;
  offsetSeconds?: number;
  durationSeconds: number;
}

/** Seconds (a JSON number, at most millisecond precision) to whole milliseconds. */
export function toMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

/**
 * Where each ad plays, in ms of content: pre-rolls at 0, post-rolls at the end, mid-rolls at
 * their offset strictly inside the video. Returns the problems (field-named) or the offsets.
 */
export function placeAds(durationMs: number, ads: AdInput[]): { offsets: number[]; problems: string[] } {
  const problems: string[] = [];
  const offsets = ads.map((ad, i) => {
    const field = `ads[${i}].offsetSeconds`;
    const given = ad.offsetSeconds === undefined || ad.offsetSeconds === null ? undefined : toMs(ad.offsetSeconds);
    switch (ad.position) {
      case 'pre':
        if (given !== undefined && given !== 0) problems.push(`${field} must be 0 (or omitted) for a pre-roll`);
        return 0;
      case 'post':
        if (given !== undefined && given !== durationMs) problems.push(`${field} must be the video's duration (or omitted) for a post-roll`);
        return durationMs;
      case 'mid':
        if (given === undefined) {
          problems.push(`${field} is required for a mid-roll`);
          return 0;
        }
        if (given <= 0 || given >= durationMs) problems.push(`${field} must lie strictly between 0 and durationSeconds for a mid-roll`);
        return given;
    }
  });
  return { offsets, problems };
}

/** A thumbnail for well-known providers (YouTube); null when the URL gives none. */
export function thumbnailFor(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const host = u.hostname.replace(/^(www|m)\./, '');
  let id: string | null = null;
  if (host === 'youtu.be') id = u.pathname.slice(1).split('/')[0] || null;
  else if (host === 'youtube.com' || host === 'youtube-nocookie.com') {
    if (u.pathname === '/watch') id = u.searchParams.get('v');
    else {
      const m = /^\/(embed|shorts|live|v)\/([^/?#]+)/.exec(u.pathname);
      if (m) id = m[2];
    }
  }
  return id && /^[A-Za-z0-9_-]{6,20}$/.test(id) ? `https://i.ytimg.com/vi/${id}/hqdefault.jpg` : null;
}
