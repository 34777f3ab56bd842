import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { Button, Empty, ErrorState, Loading } from '../../lib/ui';
import { creatorApi } from './data';
import type { CreatorCard } from './series';

/** Every creator, with follower counts and whether the caller follows them. */
export function CreatorList() {
  const [items, setItems] = useState<CreatorCard[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async (after?: string) => {
    setError(null);
    try {
      const page = await creatorApi.list(after);
      setItems((prev) => (after && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section className="card stack" aria-labelledby="creators-title">
      <h2 id="creators-title">Creators</h2>
      {error ? (
        <ErrorState error={error} retry={() => void load()} />
      ) : !items ? (
        <Loading label="Loading creators…" />
      ) : items.length === 0 ? (
        <Empty>No creators yet.</Empty>
      ) : (
        <ul className="list">
          {items.map((c) => (
            <li key={c.creatorId}>
              <Link to={`/creator/${c.creatorId}`}>{c.username}</Link>{' '}
              <span className="muted">
                {c.followers} followers{c.following ? ' · following' : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <div>
          <Button onClick={() => void load(cursor)}>More creators</Button>
        </div>
      )}
    </section>
  );
}
