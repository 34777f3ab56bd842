import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { onReconnect } from '../../lib/connection';
import { formatDateTime } from '../../lib/format';
import { useSession } from '../../lib/session';
import { Amount, Button, Countdown, ErrorState, Field, Loading, Page, toast } from '../../lib/ui';
import { shortId, useLive } from '../live';
import { ACTION_LABEL, activeWindow, availableActions, isTerminal, newer, roleOf, STATUS_LABEL, timeline, type Escrow, type EscrowAction } from './escrow';
import { ESCROW_UPDATED } from './gql';
import { TradeChat } from './TradeChat';

const PATH: Record<EscrowAction, string> = { confirm: 'confirm', cancel: 'cancel', release: 'release', dispute: 'dispute' };
const CONFIRM: Partial<Record<EscrowAction, string>> = {
  release: 'Release the crypto to the buyer? Do this only once the fiat is in your account: it cannot be undone.',
  confirm: 'Confirm that you have sent the payment?',
  cancel: 'Cancel this trade? The seller gets the crypto back.',
};

/** One trade: its status, the running window, the timeline, the actions of the caller's role, the chat. */
export function EscrowPage() {
  const { escrowId = '' } = useParams();
  const { user } = useSession();
  const [escrow, setEscrow] = useState<Escrow | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<EscrowAction | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [disputing, setDisputing] = useState(false);
  const [reason, setReason] = useState('');

  const load = useCallback(async () => {
    setError(null);
    try {
      const e = await api<Escrow>(`/crypto/p2p/escrow/${escrowId}`);
      setEscrow((prev) => newer(prev, e));
    } catch (e) {
      setError(e);
    }
  }, [escrowId]);
  useEffect(() => {
    setEscrow(null);
    void load();
  }, [load]);

  // Events sent while a live channel was down are not replayed: read the escrow again after a reconnect.
  useEffect(() => onReconnect(() => void load()), [load]);

  const live = useLive<{ escrowUpdated: Escrow }>(ESCROW_UPDATED, { escrowId }, (d) => setEscrow((prev) => newer(prev, d.escrowUpdated)), !escrowId);

  async function act(action: EscrowAction, body?: unknown) {
    const question = CONFIRM[action];
    if (question && !window.confirm(question)) return;
    setBusy(action);
    setActionError(null);
    try {
      const e = await api<Escrow>(`/crypto/p2p/escrow/${escrowId}/${PATH[action]}`, { method: 'POST', body, idempotencyKey: newIdempotencyKey() });
      setEscrow((prev) => newer(prev, e));
      toast(`${ACTION_LABEL[action]}: done`);
      setDisputing(false);
    } catch (err) {
      setActionError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  function dispute(e: FormEvent) {
    e.preventDefault();
    if (!reason.trim()) return setActionError('Say what went wrong');
    void act('dispute', { reason: reason.trim() });
  }

  if (error) {
    return (
      <Page title="Trade">
        <ErrorState error={error} retry={() => void load()} />
        <Link to="/p2p">Back to offers</Link>
      </Page>
    );
  }
  if (!escrow) return <Page title="Trade"><Loading label="Loading trade…" /></Page>;

  const role = roleOf(escrow, user?.id);
  const window_ = activeWindow(escrow);
  const actions = availableActions(escrow.status, role);
  const other = role === 'buyer' ? escrow.sellerId : escrow.buyerId;
  return (
    <Page title={`Trade ${shortId(escrow.id)}`} actions={<Link to="/p2p">Back to offers</Link>}>
      <div className="grid grid-2">
        <section className="card stack" aria-labelledby="trade-status-title">
          <h2 id="trade-status-title">
            Status: <span data-testid="escrow-status">{STATUS_LABEL[escrow.status]}</span>
          </h2>
          <p>
            {role === 'buyer' ? 'You buy' : role === 'seller' ? 'You sell' : 'Trade of'} <Amount value={escrow.amount} asset={escrow.asset} /> for{' '}
            <Amount value={escrow.fiatAmount} asset={escrow.fiatCurrency} />
            {escrow.paymentMethod ? ` by ${escrow.paymentMethod}` : ''}.
          </p>
          {window_ && (
            <p className="notice">
              {window_.label} <Countdown until={window_.until} label={window_.label} />
            </p>
          )}
          {escrow.status === 'awaiting_payment' && role === 'buyer' && <p>Send the fiat to the seller, then mark the trade as paid.</p>}
          {escrow.status === 'paid' && role === 'seller' && <p>The buyer says the payment is sent. Check your account, then release.</p>}
          {escrow.status === 'disputed' && <p>An admin is reviewing this trade{escrow.dispute ? `: “${escrow.dispute.reason}”` : ''}.</p>}
          {escrow.dispute?.resolutionNote && <p>Resolution: {escrow.dispute.resolutionNote}</p>}
          {actions.length > 0 && (
            <div className="row">
              {actions.map((a) =>
                a === 'dispute' ? (
                  <Button key={a} variant="danger" aria-expanded={disputing} onClick={() => setDisputing(!disputing)}>
                    {ACTION_LABEL[a]}
                  </Button>
                ) : (
                  <Button key={a} variant={a === 'cancel' ? 'danger' : 'primary'} busy={busy === a} onClick={() => void act(a)}>
                    {ACTION_LABEL[a]}
                  </Button>
                ),
              )}
            </div>
          )}
          {disputing && (
            <form className="stack" onSubmit={dispute}>
              <Field label="Dispute reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} required />
              <div>
                <Button type="submit" variant="danger" busy={busy === 'dispute'}>
                  Submit dispute
                </Button>
              </div>
            </form>
          )}
          {actionError && (
            <p role="alert" className="error">
              {actionError}
            </p>
          )}
          {live.error && !isTerminal(escrow.status) && <p className="muted">Live updates paused: {errorText(live.error)}</p>}
        </section>
        <section className="card" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <ol className="timeline">
            {timeline(escrow).map((s) => (
              <li key={s.key} className={`step step-${s.state}`} aria-current={s.state === 'current' ? 'step' : undefined}>
                <span>{s.label}</span> {s.at && <time dateTime={s.at} className="muted">{formatDateTime(s.at)}</time>}
                {s.state === 'current' && <span className="muted"> (now)</span>}
              </li>
            ))}
          </ol>
        </section>
      </div>
      {escrow.chatRoomId ? <TradeChat roomId={escrow.chatRoomId} counterpart={other} /> : <p className="muted">This trade has no chat.</p>}
    </Page>
  );
}
