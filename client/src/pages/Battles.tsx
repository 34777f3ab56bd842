import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api } from '../lib/api';
import { useSession } from '../lib/session';
import { Button, Countdown, Empty, ErrorState, Loading, Page } from '../lib/ui';
import { hasRole } from './live';
import { BattleView } from './battles/BattleView';
import { CreateBattle } from './battles/CreateBattle';
import { sortBattles, totalVotes, winnerName, type Battle } from './battles/tally';
import './features.css';

/** `/battles`: the list (live first) and, for creators and admins, a form; `/battles/:battleId`: one battle. */
export default function Battles() {
  const { battleId } = useParams();
  if (battleId) return <BattleView key={battleId} battleId={battleId} />;
  return <BattleList />;
}

function BattleList() {
  const { user } = useSession();
  const [items, setItems] = useState<Battle[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async (after?: string) => {
    setError(null);
    try {
      const page = await api<{ items: Battle[]; nextCursor: string | null }>('/battles', { query: { limit: 50, cursor: after } });
      setItems((prev) => sortBattles(after && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Page title="Battles">
      {error ? (
        <ErrorState error={error} retry={() => void load()} />
      ) : !items ? (
        <Loading label="Loading battles…" />
      ) : items.length === 0 ? (
        <Empty>No battles yet.</Empty>
      ) : (
        <ul className="list" aria-label="Battles">
          {items.map((b) => (
            <li key={b.id}>
              <Link to={`/battles/${b.id}`}>{b.title}</Link>{' '}
              <span className="muted">
                {b.participants.map((p) => p.username).join(' vs ')} · {totalVotes(b)} votes ·{' '}
                {b.status === 'live' ? (
                  <>
                    live, ends in <Countdown until={b.endsAt} />
                  </>
                ) : (
                  `ended${winnerName(b) ? `, ${winnerName(b)} won` : ''}`
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <p>
          <Button onClick={() => void load(cursor)}>More battles</Button>
        </p>
      )}
      {hasRole(user, 'creator', 'admin') && <CreateBattle />}
    </Page>
  );
}
