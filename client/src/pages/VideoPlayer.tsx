import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api } from '../lib/api';
import { emitAck, getSocket, useSocketEvent } from '../lib/socket';
import { Button, Countdown, ErrorState, Loading, Page, toast } from '../lib/ui';
import { useLive } from './live';
import { useHlsSource } from './videos/useHls';
import { useWatch, type PlayerPort } from './videos/useWatch';
import { clock, playbackFor, type Playback, type Video } from './videos/watch';
import './features.css';

const VIEWERS = `subscription Viewers($videoId: ID!) { viewerCountUpdated(videoId: $videoId) { videoId count } }`;
const REWARDS = `subscription Rewards { rewardEarned { id action amount asset status createdAt } }`;

/** `/videos/:videoId`: the Watch2Earn player. */
export default function VideoPlayer() {
  const { videoId = '' } = useParams();
  const [video, setVideo] = useState<Video | null>(null);
  const [playback, setPlayback] = useState<Playback | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [viewers, setViewers] = useState<number | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const v = await api<Video>(`/videos/${videoId}`);
      setVideo(v);
      // A signed playback URL when the server has one for this source; the video's own URL otherwise.
      const p = await api<{ url: string; kind?: string }>(`/videos/${videoId}/playback`).catch(() => null);
      const url = p?.url ?? v.url;
      if (!url) throw new Error('This video cannot be played right now (no playback address)');
      setPlayback(playbackFor(url, p?.kind));
    } catch (e) {
      setError(e);
    }
  }, [videoId]);
  useEffect(() => {
    void load();
  }, [load]);

  // Live viewers: joining counts this tab; the count comes from the subscription (and the join's answer).
  const join = useCallback(() => {
    emitAck<{ viewerCount: number }>('join_video', { videoId })
      .then((r) => setViewers((n) => (typeof r?.viewerCount === 'number' ? r.viewerCount : n)))
      .catch(() => undefined);
  }, [videoId]);
  useEffect(() => {
    join();
    return () => {
      getSocket().emit('leave_video', { videoId });
    };
  }, [join, videoId]);
  useSocketEvent('connect', join);
  useLive<{ viewerCountUpdated: { count: number } }>(VIEWERS, { videoId }, (d) => setViewers(d.viewerCountUpdated.count));
  useLive<{ rewardEarned: { amount: string; asset?: string; action: string } }>(REWARDS, undefined, (d) =>
    toast(`Reward earned: ${d.rewardEarned.amount} ${d.rewardEarned.asset ?? 'SOFT'} (${d.rewardEarned.action.replace(/_/g, ' ')})`),
  );

  if (error) return <Page title="Video"><ErrorState error={error} retry={() => void load()} /></Page>;
  if (!video || !playback) return <Page title="Video"><Loading label="Loading video…" /></Page>;
  return (
    <Page title={video.title} actions={<Link to="/videos">All videos</Link>}>
      <p>
        <span role="status" aria-live="polite" data-testid="viewer-count">
          {viewers ?? video.viewerCount} watching now
        </span>
        {video.creatorUsername && (
          <>
            {' '}· by <Link to={`/creator/${video.creatorId}`}>{video.creatorUsername}</Link>
          </>
        )}
      </p>
      <Player video={video} playback={playback} />
      {video.description && <p>{video.description}</p>}
    </Page>
  );
}

function Player({ video, playback }: { video: Video; playback: Playback }) {
  const el = useRef<HTMLVideoElement>(null);
  // Embedded players (YouTube, Vimeo) do not tell us their state: the viewer says when they watch, the clock counts.
  const clockPlay = useRef<{ since: number | null; base: number }>({ since: null, base: 0 });
  const [embedPlaying, setEmbedPlaying] = useState(false);
  const port = useMemo<PlayerPort>(
    () =>
      playback.kind === 'video'
        ? {
            position: () => el.current?.currentTime ?? 0,
            playing: () => !!el.current && !el.current.paused && !el.current.ended,
            pause: () => el.current?.pause(),
            resume: () => void el.current?.play().catch(() => undefined),
          }
        : {
            position: () => {
              const c = clockPlay.current;
              return Math.min(video.durationSeconds, c.base + (c.since ? (Date.now() - c.since) / 1000 : 0));
            },
            playing: () => clockPlay.current.since !== null,
            pause: () => {
              const c = clockPlay.current;
              if (c.since) c.base += (Date.now() - c.since) / 1000;
              c.since = null;
              setEmbedPlaying(false);
            },
            resume: () => {
              clockPlay.current.since ??= Date.now();
              setEmbedPlaying(true);
            },
          },
    [playback.kind, video.durationSeconds],
  );
  const w = useWatch(video, port);

  // Embedded: the clock position also drives mid-roll and post-roll slots.
  useEffect(() => {
    if (playback.kind !== 'embed' || !embedPlaying) return;
    const t = setInterval(() => {
      if (port.position() >= video.durationSeconds) {
        port.pause();
        w.onEnded();
      } else w.onTime();
    }, 500);
    return () => clearInterval(t);
  }, [playback.kind, embedPlaying, port, video.durationSeconds, w]);

  const ready = w.phase === 'ready' || w.phase === 'ad';
  // HLS plays through hls.js (Media Source Extensions), natively where there is no MSE (useHlsSource).
  const stream = useHlsSource(el, playback);
  return (
    <div className="stack">
      {stream.mode === 'unsupported' && (
        <p className="notice" role="status">
          This video is an HLS stream, and this browser can play neither HLS nor Media Source Extensions. Try another browser.
        </p>
      )}
      {stream.mode === 'failed' && (
        <p className="notice" role="alert">
          {stream.message}
        </p>
      )}
      <div className="player">
        {playback.kind === 'video' ? (
          <video
            ref={el}
            src={playback.hls ? undefined : playback.src}
            data-stream={stream.mode}
            controls
            playsInline
            preload="metadata"
            aria-label={`Video: ${video.title}`}
            onPlay={() => {
              if (!w.mayPlay()) el.current?.pause();
            }}
            onPause={() => w.kick()}
            onSeeked={() => w.kick()}
            onTimeUpdate={() => w.onTime()}
            onEnded={() => w.onEnded()}
          />
        ) : (
          <iframe src={playback.src} title={`Video: ${video.title}`} allow="autoplay; encrypted-media; picture-in-picture" allowFullScreen />
        )}
        {w.ad && (
          <div className="ad-overlay" role="dialog" aria-modal="false" aria-labelledby="ad-title">
            <strong id="ad-title">Advertisement</strong>
            <span>
              Your video continues in <Countdown until={w.ad.endsAt} label="Ad ends in" />
            </span>
            <span className="muted">Watching this ad earns {w.ad.ad.reward} SOFT</span>
          </div>
        )}
      </div>
      {playback.kind === 'embed' && (
        <div>
          <Button
            variant="primary"
            aria-pressed={embedPlaying}
            disabled={!ready || !!w.ad}
            onClick={() => {
              if (embedPlaying) {
                port.pause();
                w.kick();
              } else if (w.mayPlay()) port.resume();
            }}
          >
            {embedPlaying ? 'Pause watching' : 'Start watching'}
          </Button>{' '}
          <span className="muted">Press play in the player too; earnings count the time you watch here.</span>
        </div>
      )}
      <WatchStatus video={video} w={w} />
    </div>
  );
}

function WatchStatus({ video, w }: { video: Video; w: ReturnType<typeof useWatch> }) {
  const p = w.progress;
  return (
    <section className="card stack" aria-labelledby="earn-title">
      <h2 id="earn-title">Watch2Earn</h2>
      <p role="status">
        {w.phase === 'starting'
          ? 'Starting a watch session…'
          : w.phase === 'failed'
            ? 'Watching is not counted: the session could not start.'
            : w.phase === 'stopped'
              ? 'Session ended.'
              : w.ad
                ? 'Ad playing'
                : 'Session active'}
        {p && ` · ${clock(p.watchedSeconds)} verified of ${clock(video.durationSeconds)} (${p.percentWatched}%)`}
      </p>
      {w.error && <p role="alert" className="error">{w.error}</p>}
      {video.milestones.length > 0 && (
        <ul className="list" aria-label="Milestones">
          {video.milestones.map((m) => (
            <li key={m.percent}>
              Milestone {m.percent}%: earns {m.reward} SOFT{p?.milestonesReached.includes(m.percent) ? ' (reached)' : ''}
            </li>
          ))}
        </ul>
      )}
      {video.ads.length > 0 && (
        <p className="muted">
          {video.ads.length} ad{video.ads.length > 1 ? 's' : ''}: {video.ads.map((a) => (a.position === 'mid' ? `mid-roll at ${clock(a.offsetSeconds)}` : `${a.position}-roll`)).join(', ')}
        </p>
      )}
      {w.earned.length > 0 && (
        <ul className="list" aria-label="Rewards this session" aria-live="polite">
          {w.earned.map((e, i) => (
            <li key={i}>{e}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
