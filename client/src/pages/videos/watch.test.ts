import { describe, expect, it } from 'vitest';
import { claimable, clock, dueAd, heartbeatBody, heartbeatDelay, playbackFor, type VideoAd } from './watch';

const ad = (id: string, position: VideoAd['position'], offsetSeconds: number): VideoAd => ({ id, position, offsetSeconds, durationSeconds: 5, reward: '1' });
const ads = [ad('post', 'post', 60), ad('mid', 'mid', 30), ad('pre', 'pre', 0)];

describe('dueAd', () => {
  it('plays the pre-roll first, the mid-roll after its offset, the post-roll at the end, each once', () => {
    const at = (positionSeconds: number, ended = false) => ({ positionSeconds, durationSeconds: 60, ended });
    expect(dueAd(ads, at(0), new Set())?.id).toBe('pre');
    expect(dueAd(ads, at(10), new Set(['pre']))).toBeNull();
    expect(dueAd(ads, at(30), new Set(['pre']))?.id).toBe('mid');
    expect(dueAd(ads, at(45), new Set(['pre', 'mid']))).toBeNull();
    expect(dueAd(ads, at(59.6), new Set(['pre', 'mid']))?.id).toBe('post');
    expect(dueAd(ads, at(20, true), new Set(['pre', 'mid']))?.id).toBe('post');
    expect(dueAd(ads, at(60, true), new Set(['pre', 'mid', 'post']))).toBeNull();
  });

  it('after a seek past a mid-roll, shows the earliest due ad first', () => {
    expect(dueAd(ads, { positionSeconds: 60, durationSeconds: 60, ended: true }, new Set(['pre']))?.id).toBe('mid');
  });
});

describe('heartbeatDelay', () => {
  const p = { nowMs: 10_000, lastSentMs: 8_000, intervalMs: 5_000, minIntervalMs: 1_000, changed: false, active: true };
  it('sends the first heartbeat at once', () => expect(heartbeatDelay({ ...p, lastSentMs: null })).toBe(0));
  it('waits for the interval while playing', () => expect(heartbeatDelay(p)).toBe(3_000));
  it('reports a change as soon as the minimum interval allows', () => {
    expect(heartbeatDelay({ ...p, changed: true })).toBe(0);
    expect(heartbeatDelay({ ...p, changed: true, lastSentMs: 9_600 })).toBe(600);
  });
  it('sends nothing while paused', () => expect(heartbeatDelay({ ...p, active: false })).toBeNull());
  it('is overdue after a long gap', () => expect(heartbeatDelay({ ...p, lastSentMs: 0 })).toBe(0));
});

describe('heartbeatBody', () => {
  it('carries the position to the millisecond and the ad while it plays', () => {
    expect(heartbeatBody(12.34567, true, null)).toEqual({ positionSeconds: 12.346, playing: true });
    expect(heartbeatBody(30, false, 'a1')).toEqual({ positionSeconds: 30, playing: true, adId: 'a1' });
    expect(heartbeatBody(Number.NaN, false, null)).toEqual({ positionSeconds: 0, playing: false });
  });
});

describe('claimable', () => {
  it('lists earned milestones and completed ads not yet claimed', () => {
    const progress = {
      milestonesReached: [25, 50],
      ads: [
        { adId: 'a', reached: true, completed: true, watchedSeconds: 5, durationSeconds: 5 },
        { adId: 'b', reached: true, completed: false, watchedSeconds: 2, durationSeconds: 5 },
      ],
    };
    expect(claimable(progress, new Set(['m:25']))).toEqual({ milestones: [50], ads: ['a'] });
    expect(claimable(progress, new Set(['m:25', 'm:50', 'a:a']))).toEqual({ milestones: [], ads: [] });
  });
});

describe('playbackFor', () => {
  it('embeds YouTube and Vimeo, plays files in <video>', () => {
    expect(playbackFor('https://www.youtube.com/watch?v=dQw4w9WgXcQ')).toEqual({ kind: 'embed', provider: 'youtube', src: 'https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ' });
    expect(playbackFor('https://youtu.be/dQw4w9WgXcQ').kind).toBe('embed');
    expect(playbackFor('https://vimeo.com/76979871')).toEqual({ kind: 'embed', provider: 'vimeo', src: 'https://player.vimeo.com/video/76979871' });
    expect(playbackFor('https://cdn.example.com/v.mp4')).toEqual({ kind: 'video', src: 'https://cdn.example.com/v.mp4' });
    expect(playbackFor('not a url')).toEqual({ kind: 'video', src: 'not a url' });
    // What GET /api/videos/:id/playback answers for provider sources (kind "embed").
    expect(playbackFor('https://www.youtube.com/embed/dQw4w9WgXcQ', 'embed').src).toBe('https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ');
    expect(playbackFor('https://player.vimeo.com/video/76979871', 'embed').src).toBe('https://player.vimeo.com/video/76979871');
    expect(playbackFor('https://cdn.example.com/a.mp4', 'file').kind).toBe('video');
    expect(playbackFor('https://customer.example.com/abc/manifest/video.m3u8', 'hls')).toEqual({ kind: 'video', hls: true, src: 'https://customer.example.com/abc/manifest/video.m3u8' });
  });
});

it('formats a clock', () => {
  expect(clock(65)).toBe('1:05');
  expect(clock(3723)).toBe('1:02:03');
  expect(clock(-3)).toBe('0:00');
});
