import { applyHeartbeat, beatCapacityMs, bucketMask, completed, initialState, milestoneNeedMs, slotReached, VideoTiming, WatchState, CreditRules, Beat } from './watch-credit';

const rules: CreditRules = { minIntervalMs: 1000, burst: 2, toleranceMs: 2000, maxGapMs: 30_000 };
const video: VideoTiming = {
  durationMs: 60_000,
  ads: [
    { id: 'pre', position: 'pre', offsetMs: 0, durationMs: 5000 },
    { id: 'mid', position: 'mid', offsetMs: 30_000, durationMs: 10_000 },
    { id: 'post', position: 'post', offsetMs: 60_000, durationMs: 5000 },
  ],
};

function run(beats: Omit<Beat, 'atMs'>[] & { at?: number }[], stepMs = 5000, v = video, r = rules) {
  let s: WatchState = initialState(0, v, r.toleranceMs);
  let t = 0;
  for (const b of beats as (Omit<Beat, 'atMs'> & { at?: number })[]) {
    t = b.at ?? t + stepMs;
    const out = applyHeartbeat(s, { ...b, atMs: t }, v, r);
    if (!out.ok) throw new Error(`refused at ${t}`);
    s = out.state;
  }
  return s;
}

describe('verified watch time', () => {
  it('credits honest playback in full, jitter included', () => {
    let s = initialState(0, video, rules.toleranceMs);
    // Heartbeats every ~5 s with ±300 ms of network jitter; the player advances exactly 5 s each time.
    const arrivals = [4700, 10_300, 14_800, 20_200, 25_000, 29_700, 35_300, 40_000, 44_900, 50_100, 55_000, 60_050];
    arrivals.forEach((at, i) => {
      const out = applyHeartbeat(s, { atMs: at, positionMs: (i + 1) * 5000, playing: true }, video, rules);
      if (!out.ok) throw new Error('refused');
      s = out.state;
    });
    expect(s.watchedMs).toBe(60_000);
    expect(completed(s)).toBe(true);
    expect(s.buckets).toBe((1 << 20) - 1);
    expect(s.seeks).toBe(0);
  });

  it('never credits more than the clock: a seek forward earns only the time that passed', () => {
    const s = run([{ positionMs: 55_000, playing: true }], 2000, video, { ...rules, toleranceMs: 0 });
    expect(s.watchedMs).toBe(2000);
    expect(s.seeks).toBe(1);
    expect(completed(s)).toBe(false);
    // Which slices were played is unknown across a jump: none is marked (no retention, no completion).
    expect(s.buckets).toBe(0);
  });

  it('credits nothing for seeking back or for pauses, and nothing for silence beyond the gap limit', () => {
    const s = run([
      { positionMs: 5000, playing: true },
      { positionMs: 1000, playing: true }, // seek back
      { positionMs: 1000, playing: false }, // paused
      { positionMs: 4000, playing: false }, // position moved while paused both times: not playback
    ]);
    expect(s.watchedMs).toBe(5000);
    expect(s.seeks).toBe(1);

    let t = initialState(0, video, rules.toleranceMs);
    const out = applyHeartbeat(t, { atMs: 600_000, positionMs: 60_000, playing: true }, video, rules);
    if (!out.ok) throw new Error('refused');
    t = out.state;
    expect(t.watchedMs).toBe(30_000 + rules.toleranceMs); // ten silent minutes count as the 30 s gap limit
  });

  it('refuses heartbeats faster than the minimum interval, with the time to wait', () => {
    const s = initialState(0, video);
    const out = applyHeartbeat(s, { atMs: 400, positionMs: 400, playing: true }, video, rules);
    expect(out).toEqual({ ok: false, retryAfterMs: 600 });
  });

  it('accepts the first heartbeat right after the start (a session starts with a full bucket)', () => {
    const s = initialState(0, video, rules.toleranceMs, beatCapacityMs(rules));
    const out = applyHeartbeat(s, { atMs: 0, positionMs: 0, playing: true }, video, rules);
    expect(out.ok).toBe(true);
  });

  it('absorbs jitter around the interval, refuses floods, and still credits no more than the clock', () => {
    let s = initialState(0, video, rules.toleranceMs, beatCapacityMs(rules));
    // Heartbeats every ~1 s with ±150 ms of network jitter: all accepted.
    const times = [0, 850, 2150, 2900, 4100, 4950, 6150, 6900, 8000];
    for (const at of times) {
      const out = applyHeartbeat(s, { atMs: at, positionMs: at, playing: true }, video, rules);
      if (!out.ok) throw new Error(`refused at ${at}`);
      s = out.state;
    }
    // Three at once: the bucket holds two heartbeats at most (and is not full right now).
    const burst = [8010, 8020, 8030].map((at) => {
      const out = applyHeartbeat(s, { atMs: at, positionMs: 8000, playing: true }, video, rules);
      if (out.ok) s = out.state;
      return out.ok;
    });
    expect(burst.filter(Boolean).length).toBeLessThanOrEqual(1);
    // A position jump far ahead of the clock is not credited beyond the real time plus tolerance.
    const jump = applyHeartbeat(s, { atMs: 10_000, positionMs: 55_000, playing: true }, video, rules);
    if (!jump.ok) throw new Error('refused');
    expect(jump.state.watchedMs).toBeLessThanOrEqual(10_000 + rules.toleranceMs);
    expect(jump.seek).toBe(true);
  });

  it('cannot bank idle time to fast-forward later', () => {
    // Open, wait 25 s idle, then claim 3 s of content every second.
    let s = initialState(0, video, rules.toleranceMs);
    let out = applyHeartbeat(s, { atMs: 25_000, positionMs: 0, playing: false }, video, rules);
    if (!out.ok) throw new Error('refused');
    s = out.state;
    for (let i = 1; i <= 10; i++) {
      out = applyHeartbeat(s, { atMs: 25_000 + i * 1000, positionMs: i * 3000, playing: true }, video, rules);
      if (!out.ok) throw new Error('refused');
      s = out.state;
    }
    // 10 s of real playback time plus at most the jitter tolerance carried over.
    expect(s.watchedMs).toBeLessThanOrEqual(10_000 + rules.toleranceMs);
  });

  it('credits ads only in their slot, for the time that passed, and completes them', () => {
    let s = initialState(0, video, 0);
    const beat = (atMs: number, positionMs: number, adId?: string, playing = true) => {
      const out = applyHeartbeat(s, { atMs, positionMs, playing, adId }, video, rules);
      if (!out.ok) throw new Error('refused');
      s = out.state;
      return out;
    };
    beat(3000, 0, 'pre');
    expect(s.ads.pre).toMatchObject({ startedAtMs: 3000, watchedMs: 3000, completedAtMs: null });
    beat(6000, 0, 'pre');
    expect(s.ads.pre).toMatchObject({ watchedMs: 5000, completedAtMs: 6000 });
    // The mid-roll before its slot: nothing.
    beat(8000, 2000, 'mid');
    expect(s.ads.mid).toMatchObject({ reachedAtMs: null, startedAtMs: null, watchedMs: 0 });
    expect(s.watchedMs).toBe(2000);
    // Seeking to the offset reaches the slot; the ad then plays for real time only.
    beat(9000, 30_000, 'mid');
    expect(s.ads.mid.reachedAtMs).toBe(9000);
    const before = s.ads.mid.watchedMs;
    beat(19_000, 30_000, 'mid');
    expect(s.ads.mid.watchedMs - before).toBe(Math.min(10_000, 10_000 - before));
    expect(s.ads.mid.completedAtMs).toBe(19_000);
    expect(s.ads.post.reachedAtMs).toBeNull();
    // Content and ads together never exceed the session's real time.
    expect(s.watchedMs + s.adWatchedMs).toBeLessThanOrEqual(19_000 + rules.toleranceMs);
  });

  it('reaches slots by position', () => {
    expect(slotReached(video.ads[0], 0, 60_000)).toBe(true);
    expect(slotReached(video.ads[1], 29_999, 60_000)).toBe(false);
    expect(slotReached(video.ads[1], 30_000, 60_000)).toBe(true);
    expect(slotReached(video.ads[2], 59_400, 60_000)).toBe(false);
    expect(slotReached(video.ads[2], 59_500, 60_000)).toBe(true);
  });

  it('computes slices and milestone needs exactly', () => {
    expect(bucketMask(0, 3000, 60_000)).toBe(1);
    expect(bucketMask(0, 3001, 60_000)).toBe(0b11);
    expect(bucketMask(57_000, 60_000, 60_000)).toBe(1 << 19);
    expect(milestoneNeedMs(50, 3001)).toBe(1501);
    expect(milestoneNeedMs(100, 60_000)).toBe(60_000);
  });
});
