import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { useSession } from '../../lib/session';
import { Amount, Button, Empty, ErrorState, Field, Loading, SelectField } from '../../lib/ui';
import { checkAcceptAmount, fiatPreview, offerQuery, takerVerb, type Escrow, type Offer, type OfferFilters } from './escrow';
import { ASSETS } from './OfferForm';
import { useLive, useTrailing } from '../live';

const OFFER_UPDATED = `subscription OfferUpdated { offerUpdated { id status } }`;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const NO_FILTERS: OfferFilters = { side: '', asset: '', fiatCurrency: '', paymentMethod: '', amount: '' };

/** The offer book with filters; taking an offer opens its escrow. */
export function OffersPanel({ refreshKey }: { refreshKey: number }) {
  const [draft, setDraft] = useState<OfferFilters>(NO_FILTERS);
  const [filters, setFilters] = useState<OfferFilters>(NO_FILTERS);
  const [page, setPage] = useState<Page<Offer> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [more, setMore] = useState(false);

  const load = useCallback(
    async (cursor?: string, limit = 20) => {
      setError(null);
      try {
        const res = await api<Page<Offer>>('/crypto/p2p/offers', { query: { ...offerQuery(filters), limit, cursor } });
        setPage((p) => (cursor && p ? { items: [...p.items, ...res.items], nextCursor: res.nextCursor } : res));
      } catch (e) {
        setError(e);
      }
    },
    [filters],
  );
  useEffect(() => {
    setPage(null);
    void load();
  }, [load, refreshKey]);

  // Live market: an offer that left (paused, closed) goes at once; any change also reloads what is
  // shown (as many offers as are listed, at most once a second) so the server's order and filters hold.
  const reloadSoon = useTrailing(() => void load(undefined, Math.min(100, Math.max(20, page?.items.length ?? 0))), 1000);
  useLive<{ offerUpdated: { id: string; status: string } }>(OFFER_UPDATED, undefined, ({ offerUpdated: o }) => {
    if (o.status !== 'active') setPage((p) => p && { ...p, items: p.items.filter((x) => x.id !== o.id) });
    reloadSoon();
  });

  const set = (k: keyof OfferFilters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };

  return (
    <section className="card stack" aria-labelledby="offers-title">
      <h2 id="offers-title">Offers</h2>
      <form className="row" onSubmit={apply} aria-label="Offer filters">
        <SelectField label="Side" value={draft.side} onChange={set('side')} options={[{ value: '', label: 'Any' }, { value: 'sell', label: 'Sellers' }, { value: 'buy', label: 'Buyers' }]} />
        <SelectField label="Asset filter" value={draft.asset} onChange={set('asset')} options={[{ value: '', label: 'Any' }, ...ASSETS.map((a) => ({ value: a, label: a }))]} />
        <Field label="Currency filter" value={draft.fiatCurrency} onChange={set('fiatCurrency')} maxLength={3} placeholder="USD" />
        <Field label="Payment method filter" value={draft.paymentMethod} onChange={set('paymentMethod')} />
        <Field label="Amount filter" inputMode="decimal" value={draft.amount} onChange={set('amount')} hint="Needs an asset" />
        <Button type="submit">Apply filters</Button>
      </form>
      {error ? (
        <ErrorState error={error} retry={() => void load()} />
      ) : !page ? (
        <Loading label="Loading offers…" />
      ) : page.items.length === 0 ? (
        <Empty>No offers match. Post one, or widen the filters.</Empty>
      ) : (
        <ul className="list" aria-label="Offers">
          {page.items.map((o) => (
            <OfferRow key={o.id} offer={o} onClosed={() => setPage((p) => p && { ...p, items: p.items.filter((x) => x.id !== o.id) })} />
          ))}
        </ul>
      )}
      {page?.nextCursor && (
        <div>
          <Button
            busy={more}
            onClick={async () => {
              setMore(true);
              await load(page.nextCursor!);
              setMore(false);
            }}
          >
            More offers
          </Button>
        </div>
      )}
    </section>
  );
}

function OfferRow({ offer: o, onClosed }: { offer: Offer; onClosed: () => void }) {
  const { user } = useSession();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [amount, setAmount] = useState('');
  const [method, setMethod] = useState(o.paymentMethods[0] ?? '');
  const [key, setKey] = useState(newIdempotencyKey);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const mine = user?.id === o.userId;
  const verb = takerVerb(o);
  const fiat = fiatPreview(amount, o.price);

  async function accept(e: FormEvent) {
    e.preventDefault();
    const problem = checkAcceptAmount(amount.trim(), o);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      const escrow = await api<Escrow>(`/crypto/p2p/offers/${o.id}/accept`, { body: { amount: amount.trim(), paymentMethod: method }, idempotencyKey: key });
      setKey(newIdempotencyKey());
      navigate(`/p2p/trades/${escrow.id}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const rep = o.reputation;
  return (
    <li>
      <div className="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
        <div>
          <strong>{o.username}</strong> {o.side === 'sell' ? 'sells' : 'buys'} <strong>{o.asset}</strong> at{' '}
          <Amount value={o.price} asset={o.fiatCurrency} />
          <div className="muted">
            Limits <Amount value={o.minAmount} /> – <Amount value={o.maxAmount} asset={o.asset} /> · {o.paymentMethods.join(', ')} · pay within{' '}
            {Math.round(o.paymentWindowSeconds / 60)} min
            {rep && rep.completionRate !== null ? ` · ${rep.completedTrades} trades, ${Math.round(rep.completionRate * 100)}% completed` : ''}
          </div>
          {o.terms && <div className="muted">Terms: {o.terms}</div>}
        </div>
        {mine ? (
          <span className="row" style={{ alignItems: 'center' }}>
            <span className="muted">Your offer</span>
            <Button
              variant="danger"
              busy={busy}
              onClick={async () => {
                if (!window.confirm('Close this offer? Trades already open are not affected.')) return;
                setBusy(true);
                setError(null);
                try {
                  await api(`/crypto/p2p/offers/${o.id}`, { method: 'PATCH', body: { status: 'closed' } });
                  onClosed();
                } catch (err) {
                  setError(errorText(err));
                  setBusy(false);
                }
              }}
            >
              Close offer
            </Button>
          </span>
        ) : (
          <Button variant={o.side === 'sell' ? 'primary' : 'default'} aria-expanded={open} onClick={() => setOpen(!open)} aria-label={`${verb} ${o.asset} from ${o.username}`}>
            {verb} {o.asset}
          </Button>
        )}
      </div>
      {mine && error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {open && !mine && (
        <form className="row" onSubmit={accept} aria-label={`Take ${o.username}'s offer`}>
          <Field label={`Amount (${o.asset})`} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} required autoFocus />
          {o.paymentMethods.length > 1 && (
            <SelectField label="Payment method" value={method} onChange={(e) => setMethod(e.target.value)} options={o.paymentMethods.map((m) => ({ value: m, label: m }))} />
          )}
          <p className="muted" aria-live="polite">
            {fiat ? <>≈ <Amount value={fiat} asset={o.fiatCurrency} /></> : 'Enter an amount'}
          </p>
          <Button type="submit" variant="primary" busy={busy}>
            Open trade
          </Button>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
        </form>
      )}
    </li>
  );
}
