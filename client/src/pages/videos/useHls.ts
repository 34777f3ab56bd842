import { useEffect, useState, type RefObject } from 'react';
import type { Playback } from './watch';

/**
 * How an HLS stream reaches the `<video>` element:
 * - `direct`: not HLS; the element plays `src` itself;
 * - `hls.js`: Media Source Extensions through hls.js (every browser that has MSE);
 * - `native`: the browser plays HLS itself, where there is no MSE (older iOS Safari);
 * - `loading`: hls.js is being fetched (its own chunk, so pages without HLS never load it);
 * - `unsupported`: neither native HLS nor MSE;
 * - `failed`: the stream could not be loaded (the message says why).
 */
export type HlsState = { mode: 'direct' | 'native' | 'hls.js' | 'loading' | 'unsupported' } | { mode: 'failed'; message: string };

const HLS_MIME = 'application/vnd.apple.mpegurl';

/** Attaches `playback` to the element, through hls.js when the browser has no native HLS. */
export function useHlsSource(el: RefObject<HTMLVideoElement | null>, playback: Playback): HlsState {
  const hls = playback.kind === 'video' && !!playback.hls;
  const src = playback.kind === 'video' ? playback.src : '';
  const [state, setState] = useState<HlsState>({ mode: hls ? 'loading' : 'direct' });

  useEffect(() => {
    const video = el.current;
    if (!hls || !video) {
      setState({ mode: 'direct' });
      return;
    }
    // hls.js first wherever Media Source Extensions exist (its own advice): the same player, retry
    // rules and errors in every desktop browser, Chrome's recent native HLS included. Native HLS
    // only where there is no MSE (iOS Safari before ManagedMediaSource).
    const mse = typeof window !== 'undefined' && ('MediaSource' in window || 'ManagedMediaSource' in window);
    if (!mse) {
      if (!video.canPlayType(HLS_MIME)) {
        setState({ mode: 'unsupported' });
        return;
      }
      const failed = () => setState({ mode: 'failed', message: 'The stream could not be loaded.' });
      video.addEventListener('error', failed);
      video.src = src;
      setState({ mode: 'native' });
      return () => {
        video.removeEventListener('error', failed);
        video.removeAttribute('src');
        video.load();
      };
    }
    let cancelled = false;
    let player: import('hls.js/light').default | null = null;
    setState({ mode: 'loading' });
    void import('hls.js/light')
      .then(({ default: Hls }) => {
        if (cancelled) return;
        if (!Hls.isSupported()) {
          if (video.canPlayType(HLS_MIME)) {
            video.src = src;
            setState({ mode: 'native' });
          } else setState({ mode: 'unsupported' });
          return;
        }
        const p = new Hls({ enableWorker: true });
        player = p;
        // Recoverable faults are retried the way hls.js documents (reload on network errors, recover
        // the media pipeline once); anything else stops the player and says so.
        let mediaRecoveries = 0;
        p.on(Hls.Events.ERROR, (_event, data) => {
          if (!data.fatal) return;
          if (data.type === Hls.ErrorTypes.NETWORK_ERROR && data.details !== Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
            p.startLoad();
          } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 1) {
            p.recoverMediaError();
          } else {
            p.destroy();
            player = null;
            setState({ mode: 'failed', message: data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR ? 'The stream could not be loaded.' : `The stream stopped (${data.details}).` });
          }
        });
        p.loadSource(src);
        p.attachMedia(video);
        setState({ mode: 'hls.js' });
      })
      .catch(() => {
        if (!cancelled) setState({ mode: 'failed', message: 'The HLS player could not be loaded.' });
      });
    return () => {
      cancelled = true;
      player?.destroy();
    };
  }, [el, hls, src]);

  return state;
}
