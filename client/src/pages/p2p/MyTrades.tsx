import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../../lib/api';
import { formatDateTime } from '../../lib/format';
import { useSession } from '../../lib/session';
import { Amount, Empty, ErrorState, Loading } from '../../lib/ui';
import { roleOf, STATUS_LABEL, type Escrow } from './escrow';

/** The caller's escrows, newest first, each linking to its trade page. */
export function MyTrades({ refreshKey }: { refreshKey: number }) {
  const { user } = useSession();
  const [items, setItems] = useState<Escrow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    api<{ items: Escrow[] }>('/crypto/p2p/escrow', { query: { limit: 20 } })
      .then((r) => live && setItems(r.items))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [refreshKey, tick]);

  return (
    <section className="card stack" aria-labelledby="trades-title">
      <h2 id="trades-title">My trades</h2>
      {error ? (
        <ErrorState error={error} retry={() => setTick(tick + 1)} />
      ) : !items ? (
        <Loading label="Loading trades…" />
      ) : items.length === 0 ? (
        <Empty>No trades yet.</Empty>
      ) : (
        <ul className="list">
          {items.map((e) => (
            <li key={e.id}>
              <Link to={`/p2p/trades/${e.id}`}>
                {roleOf(e, user?.id) === 'buyer' ? 'Buying' : 'Selling'} <Amount value={e.amount} asset={e.asset} /> for{' '}
                <Amount value={e.fiatAmount} asset={e.fiatCurrency} />
              </Link>
              <div className="muted">
                {STATUS_LABEL[e.status]} · {formatDateTime(e.createdAt)}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
