import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { errorText } from '../lib/api';
import { useSession } from '../lib/session';
import { Button, ErrorState, Loading, Page } from '../lib/ui';
import { hasRole } from './live';
import { CreatorList } from './creator/CreatorList';
import { Dashboard } from './creator/Dashboard';
import { creatorApi } from './creator/data';
import type { CreatorCard } from './creator/series';
import { TipForm } from './creator/TipForm';
import './features.css';

/** `/creator`: my dashboard (creators) and the creator list; `/creator/:creatorId`: a creator's page. */
export default function Creator() {
  const { creatorId } = useParams();
  const { user } = useSession();
  if (creatorId && creatorId !== user?.id) return <CreatorPage creatorId={creatorId} />;
  if (hasRole(user, 'creator') && user) {
    return (
      <Page title="Creator dashboard">
        <Dashboard creatorId={user.id} own />
        <CreatorList />
      </Page>
    );
  }
  return (
    <Page title="Creators">
      <p className="muted">Follow and tip the people whose videos and battles you enjoy.</p>
      <CreatorList />
    </Page>
  );
}

function CreatorPage({ creatorId }: { creatorId: string }) {
  const { user } = useSession();
  const [card, setCard] = useState<CreatorCard | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [followError, setFollowError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      setCard(await creatorApi.profile(creatorId));
    } catch (e) {
      setError(e);
    }
  }, [creatorId]);
  useEffect(() => {
    void load();
  }, [load]);

  async function toggleFollow() {
    if (!card) return;
    setBusy(true);
    setFollowError(null);
    try {
      setCard(await creatorApi.follow(creatorId, !card.following));
    } catch (e) {
      setFollowError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  if (error) return <Page title="Creator"><ErrorState error={error} retry={() => void load()} /><Link to="/creator">All creators</Link></Page>;
  if (!card) return <Page title="Creator"><Loading label="Loading creator…" /></Page>;
  return (
    <Page title={card.username} actions={<Link to="/creator">All creators</Link>}>
      <section className="card row" aria-label="Follow" style={{ alignItems: 'center' }}>
        <p style={{ margin: 0 }}>
          <strong data-testid="followers">{card.followers} followers</strong>
        </p>
        <Button variant={card.following ? 'default' : 'primary'} aria-pressed={card.following} busy={busy} onClick={() => void toggleFollow()}>
          {card.following ? `Unfollow ${card.username}` : `Follow ${card.username}`}
        </Button>
        {followError && <p role="alert" className="error">{followError}</p>}
      </section>
      <TipForm creatorId={creatorId} username={card.username} />
      {hasRole(user, 'admin') ? <Dashboard creatorId={creatorId} own={false} /> : <PublicTop creatorId={creatorId} />}
    </Page>
  );
}

/** Top content is public; the rest of the dashboard is the creator's (and admins'). */
function PublicTop({ creatorId }: { creatorId: string }) {
  const [top, setTop] = useState<Awaited<ReturnType<typeof creatorApi.top>> | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    creatorApi.top(creatorId).then(setTop, setError);
  }, [creatorId]);
  return (
    <section className="card stack" aria-labelledby="ctop-title">
      <h2 id="ctop-title">Top videos</h2>
      {error ? (
        <ErrorState error={error} />
      ) : !top ? (
        <Loading />
      ) : top.length === 0 ? (
        <p className="state empty">No videos yet.</p>
      ) : (
        <ol className="list">
          {top.map((v) => (
            <li key={v.videoId}>
              <Link to={`/videos/${v.videoId}`}>{v.title}</Link> <span className="muted">{v.views} views</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
