import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, errorText } from '../../lib/api';
import { claimable, dueAd, heartbeatBody, heartbeatDelay, type Video, type VideoAd, type WatchProgress } from './watch';

interface SessionStart {
  sessionId: string;
  heartbeatIntervalSeconds?: number;
  minHeartbeatIntervalSeconds?: number;
}

interface ClaimResult {
  rewardId: string;
  status: string;
  amount: string;
}

/** What the page's player reports: where the content is and whether it plays. */
export interface PlayerPort {
  position(): number;
  playing(): boolean;
  pause(): void;
  resume(): void;
}

export type WatchPhase = 'starting' | 'ready' | 'ad' | 'stopped' | 'failed';

/**
 * One watch session of one video: starts it, sends heartbeats while something plays (the
 * content, or an ad with its id), shows each ad at its slot, and claims milestones and ads as
 * soon as the heartbeats' answers say they are earned. Decisions live in ./watch.ts.
 */
export function useWatch(video: Video | null, port: PlayerPort) {
  const [phase, setPhase] = useState<WatchPhase>('starting');
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<WatchProgress | null>(null);
  const [ad, setAd] = useState<{ ad: VideoAd; endsAt: number } | null>(null);
  const [earned, setEarned] = useState<string[]>([]);
  const session = useRef<{ id: string; intervalMs: number; minIntervalMs: number } | null>(null);
  const lastSent = useRef<number | null>(null);
  const changed = useRef(true);
  const shown = useRef(new Set<string>());
  const claimed = useRef(new Set<string>());
  const adRef = useRef<{ ad: VideoAd; endsAt: number } | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const inFlight = useRef(false);
  const ended = useRef(false);
  const stopped = useRef(false);
  const portRef = useRef(port);
  portRef.current = port;
  const videoRef = useRef(video);
  videoRef.current = video;

  const claim = useCallback(async (kind: 'milestone' | 'ad', id: string | number) => {
    const v = videoRef.current;
    const s = session.current;
    const key = kind === 'milestone' ? `m:${id}` : `a:${id}`;
    if (!v || !s || claimed.current.has(key)) return;
    claimed.current.add(key);
    try {
      const path = kind === 'milestone' ? '/rewards/watch-milestone' : '/rewards/ad-view';
      const body = kind === 'milestone' ? { videoId: v.id, sessionId: s.id, percent: id } : { videoId: v.id, sessionId: s.id, adId: id };
      const r = await api<ClaimResult>(path, { body, idempotencyKey: `${kind}.${s.id}.${id}` });
      const what = kind === 'milestone' ? `${id}% watched` : 'ad watched';
      if (r.status === 'queued' || r.status === 'paid') setEarned((e) => [...e, `${what}: ${r.amount} SOFT`]);
      else if (r.status === 'duplicate') setEarned((e) => [...e, `${what}: already rewarded`]);
      else setEarned((e) => [...e, `${what}: ${r.status}`]);
    } catch (e) {
      // 422: not earned yet by the server's count; the next heartbeat's answer will say when.
      if (e instanceof ApiError && e.status === 422) claimed.current.delete(key);
      else setEarned((x) => [...x, `Claim failed: ${errorText(e)}`]);
    }
  }, []);

  const beat = useCallback(async () => {
    const s = session.current;
    const v = videoRef.current;
    if (!s || !v || inFlight.current) return;
    inFlight.current = true;
    const current = adRef.current;
    const body = heartbeatBody(portRef.current.position(), current ? true : portRef.current.playing(), current?.ad.id ?? null);
    lastSent.current = Date.now();
    changed.current = false;
    try {
      const p = await api<WatchProgress>(`/videos/${v.id}/sessions/${s.id}/heartbeat`, { body });
      setProgress(p);
      const c = claimable(p, claimed.current);
      for (const m of c.milestones) void claim('milestone', m);
      for (const a of c.ads) void claim('ad', a);
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) changed.current = true;
      else if (e instanceof ApiError && e.status === 409) {
        stopped.current = true;
        setPhase('stopped');
        setError('This video started playing in another window; this one no longer counts.');
        portRef.current.pause();
      } else setError(errorText(e));
    } finally {
      inFlight.current = false;
    }
  }, [claim]);

  const schedule = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    const s = session.current;
    if (!s) return;
    const active = !!adRef.current || portRef.current.playing();
    const wait = heartbeatDelay({ nowMs: Date.now(), lastSentMs: lastSent.current, intervalMs: s.intervalMs, minIntervalMs: s.minIntervalMs, changed: changed.current, active });
    if (wait === null) return;
    timer.current = setTimeout(async () => {
      await beat();
      schedule();
    }, wait);
  }, [beat]);

  /** Something changed (play, pause, seek, an ad starting or ending): report it soon. */
  const kick = useCallback(() => {
    changed.current = true;
    schedule();
  }, [schedule]);

  const showAdIfDue = useCallback(
    (endedNow = false) => {
      const v = videoRef.current;
      if (!v || adRef.current || !session.current) return false;
      ended.current = ended.current || endedNow;
      const next = dueAd(v.ads, { positionSeconds: portRef.current.position(), durationSeconds: v.durationSeconds, ended: ended.current }, shown.current);
      if (!next) return false;
      shown.current.add(next.id);
      portRef.current.pause();
      const a = { ad: next, endsAt: Date.now() + next.durationSeconds * 1000 };
      adRef.current = a;
      setAd(a);
      setPhase('ad');
      kick();
      return true;
    },
    [kick],
  );

  // The ad's own clock: when it has run its duration, report once more (with the ad), claim, resume.
  useEffect(() => {
    if (!ad) return;
    const t = setTimeout(async () => {
      const s = session.current;
      const wait = s && lastSent.current !== null ? Math.max(0, s.minIntervalMs - (Date.now() - lastSent.current)) : 0;
      if (wait) await new Promise((r) => setTimeout(r, wait));
      while (inFlight.current) await new Promise((r) => setTimeout(r, 100));
      await beat();
      await claim('ad', ad.ad.id);
      adRef.current = null;
      setAd(null);
      setPhase('ready');
      if (!showAdIfDue() && ad.ad.position !== 'post') portRef.current.resume();
      kick();
    }, Math.max(0, ad.endsAt - Date.now()));
    return () => clearTimeout(t);
  }, [ad, beat, claim, kick, showAdIfDue]);

  // Start the session when the video is known.
  useEffect(() => {
    if (!video) return;
    let stop = false;
    api<SessionStart>(`/videos/${video.id}/sessions`, { method: 'POST' })
      .then((s) => {
        if (stop) return;
        session.current = {
          id: s.sessionId,
          intervalMs: (s.heartbeatIntervalSeconds ?? 5) * 1000,
          minIntervalMs: (s.minHeartbeatIntervalSeconds ?? 1) * 1000,
        };
        setPhase('ready');
      })
      .catch((e) => {
        if (stop) return;
        setPhase('failed');
        setError(errorText(e));
      });
    return () => {
      stop = true;
      if (timer.current) clearTimeout(timer.current);
    };
  }, [video]);

  useEffect(() => {
    if (phase === 'ready' || phase === 'ad') schedule();
  }, [phase, schedule]);

  return {
    phase,
    error,
    progress,
    ad,
    earned,
    sessionId: session.current?.id ?? null,
    /** The player wants to play: true when the content may play now (the session runs and no ad is due). */
    mayPlay: () => {
      if (!session.current || adRef.current || stopped.current) return false;
      if (showAdIfDue()) return false;
      kick();
      return true;
    },
    onTime: () => showAdIfDue(),
    onEnded: () => {
      if (!showAdIfDue(true)) kick();
    },
    kick,
  };
}
