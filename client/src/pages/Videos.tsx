import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../lib/api';
import { useSession } from '../lib/session';
import { Button, Empty, ErrorState, Loading, Page } from '../lib/ui';
import { hasRole } from './live';
import { PublishVideo } from './videos/PublishVideo';
import { clock, type Video } from './videos/watch';
import './features.css';

/** `/videos`: every published video, newest first; creators can publish. */
export default function Videos() {
  const { user } = useSession();
  const [items, setItems] = useState<Video[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async (after?: string) => {
    setError(null);
    setBusy(true);
    try {
      const page = await api<{ items: Video[]; nextCursor: string | null }>('/videos', { query: { limit: 24, cursor: after } });
      setItems((prev) => (after && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Page title="Videos">
      <p className="muted">Watch to earn SOFT: milestones and ads pay once per video.</p>
      {error ? (
        <ErrorState error={error} retry={() => void load()} />
      ) : !items ? (
        <Loading label="Loading videos…" />
      ) : items.length === 0 ? (
        <Empty>No videos yet.</Empty>
      ) : (
        <ul className="video-grid" aria-label="Videos">
          {items.map((v) => (
            <li key={v.id} className="card stack">
              {v.thumbnailUrl ? <img src={v.thumbnailUrl} alt="" loading="lazy" /> : <div className="thumb-placeholder" aria-hidden="true">▶</div>}
              <Link to={`/videos/${v.id}`}>
                <strong>{v.title}</strong>
              </Link>
              <span className="muted">
                {clock(v.durationSeconds)} · {v.viewerCount} watching
                {v.creatorUsername ? ` · ${v.creatorUsername}` : ''}
                {v.milestones.length + v.ads.length > 0 ? ` · earns SOFT` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <p>
          <Button busy={busy} onClick={() => void load(cursor)}>
            More videos
          </Button>
        </p>
      )}
      {hasRole(user, 'creator', 'admin') && <PublishVideo />}
    </Page>
  );
}
