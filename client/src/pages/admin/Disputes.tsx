import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { formatDateTime } from '../../lib/format';
import { Amount, Button, Empty, ErrorState, Field, Loading, toast } from '../../lib/ui';
import { shortId } from '../live';
import type { Escrow } from '../p2p/escrow';

/** Disputed escrows (`GET /api/admin/p2p/escrow?status=disputed`), each resolved by release or refund with a note. */
export function Disputes() {
  const [items, setItems] = useState<Escrow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    setError(null);
    try {
      const page = await api<{ items: Escrow[] }>('/admin/p2p/escrow', { query: { status: 'disputed', limit: 50 } });
      setItems(page.items);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="card stack" aria-labelledby="disputes-title">
      <h2 id="disputes-title">Dispute queue</h2>
      {error ? (
        <ErrorState error={error} retry={() => void load()} />
      ) : !items ? (
        <Loading label="Loading disputes…" />
      ) : items.length === 0 ? (
        <Empty>No open disputes.</Empty>
      ) : (
        <ul className="list">
          {items.map((e) => (
            <DisputeRow key={e.id} escrow={e} onResolved={() => setItems((l) => l?.filter((x) => x.id !== e.id) ?? null)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function DisputeRow({ escrow: e, onResolved }: { escrow: Escrow; onResolved: () => void }) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = shortId(e.id);

  async function resolve(outcome: 'release' | 'refund') {
    if (!note.trim()) return setError('Write a note explaining the decision');
    const what = outcome === 'release' ? 'release the crypto to the buyer' : 'refund the seller';
    if (!window.confirm(`Resolve trade ${id}: ${what}? This is final.`)) return;
    setBusy(outcome);
    setError(null);
    try {
      await api(`/admin/p2p/escrow/${e.id}/resolve`, { body: { outcome, note: note.trim() }, idempotencyKey: newIdempotencyKey() });
      toast(`Trade ${id} resolved: ${outcome}`);
      onResolved();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <li className="stack">
      <div>
        <Link to={`/p2p/trades/${e.id}`}>Trade {id}</Link>: <Amount value={e.amount} asset={e.asset} /> for <Amount value={e.fiatAmount} asset={e.fiatCurrency} />
        <div className="muted">
          Opened by {e.dispute?.openedByRole ?? 'a party'} {e.dispute?.openedAt ? formatDateTime(e.dispute.openedAt) : ''}: “{e.dispute?.reason ?? 'no reason given'}”
        </div>
      </div>
      <div className="row">
        <Field label={`Resolution note for trade ${id}`} value={note} onChange={(ev) => setNote(ev.target.value)} maxLength={2000} />
        <Button variant="primary" busy={busy === 'release'} onClick={() => void resolve('release')}>
          Release to buyer
        </Button>
        <Button variant="danger" busy={busy === 'refund'} onClick={() => void resolve('refund')}>
          Refund seller
        </Button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
    </li>
  );
}
