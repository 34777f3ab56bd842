import { useState, type FormEvent } from 'react';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { useUser } from '../../lib/session';
import { Amount, Button, Field, SelectField, toast } from '../../lib/ui';

const DECIMAL = /^\d+(\.\d+)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Draft = { to: string; asset: string; amount: string; note: string };
/** Who the money goes to, resolved before the review: the review shows the name, the request sends the id. */
type Recipient = { id: string; username: string | null };

/** A username (with or without `@`) is looked up; a user id is taken as it is. */
async function resolveRecipient(to: string): Promise<Recipient> {
  if (UUID.test(to)) return { id: to.toLowerCase(), username: null };
  const name = to.replace(/^@/, '');
  const found = await api<{ id: string; username: string }>(`/users/by-username/${encodeURIComponent(name)}`);
  return { id: found.id, username: found.username };
}

/**
 * Send money: fill in, review, confirm. The idempotency key is made when the review opens and kept
 * for every retry of that confirmation, so a double click or a retry after a network error moves
 * the money once; a new transfer gets a new key.
 */
export function Transfer({ assets }: { assets: string[] }) {
  const me = useUser();
  const [draft, setDraft] = useState<Draft>({ to: '', asset: assets[0] ?? 'USD', amount: '', note: '' });
  const [review, setReview] = useState<{ draft: Draft; recipient: Recipient; key: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const set = (k: keyof Draft) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });

  const toReview = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const d = { ...draft, to: draft.to.trim(), amount: draft.amount.trim() };
    if (!d.to) return setError('Enter the recipient: a username or a user ID.');
    if (!DECIMAL.test(d.amount) || /^0*(\.0*)?$/.test(d.amount)) return setError('Amount must be a positive decimal number, e.g. 12.50.');
    setBusy(true);
    try {
      const recipient = await resolveRecipient(d.to);
      if (recipient.id === me.id) return setError('You cannot send money to yourself.');
      setReview({ draft: d, recipient, key: newIdempotencyKey() });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const confirm = async () => {
    if (!review) return;
    setBusy(true);
    setError(null);
    try {
      const { draft: d, recipient, key } = review;
      await api(`/wallet/${me.id}/transfer`, {
        body: { toUserId: recipient.id, asset: d.asset, amount: d.amount, ...(d.note ? { note: d.note } : {}) },
        idempotencyKey: key,
      });
      toast(`Sent ${d.amount} ${d.asset}${recipient.username ? ` to ${recipient.username}` : ''}`);
      setReview(null);
      setDraft({ ...draft, amount: '', note: '' });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (review) {
    const { draft: d, recipient } = review;
    return (
      <section className="card stack" aria-labelledby="transfer-h">
        <h2 id="transfer-h">Confirm transfer</h2>
        <dl className="review">
          <dt>To</dt>
          <dd>
            {recipient.username ? (
              <>
                <strong>{recipient.username}</strong> <code className="muted">{recipient.id}</code>
              </>
            ) : (
              <code>{recipient.id}</code>
            )}
          </dd>
          <dt>Amount</dt>
          <dd>
            <Amount value={d.amount} asset={d.asset} />
          </dd>
          {d.note && (
            <>
              <dt>Note</dt>
              <dd>{d.note}</dd>
            </>
          )}
        </dl>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="row">
          <Button variant="primary" onClick={() => void confirm()} busy={busy}>
            Confirm transfer
          </Button>
          <Button onClick={() => (setReview(null), setError(null))} disabled={busy}>
            Back
          </Button>
        </div>
      </section>
    );
  }

  return (
    <section className="card" aria-labelledby="transfer-h">
      <h2 id="transfer-h">Send money</h2>
      <form className="stack" onSubmit={(e) => void toReview(e)}>
        <Field label="Recipient" value={draft.to} onChange={set('to')} required autoComplete="off" spellCheck={false} placeholder="username or user ID" />
        <div className="row">
          <SelectField label="Asset" value={draft.asset} onChange={set('asset')} options={assets.map((a) => ({ value: a, label: a }))} />
          <Field label="Amount" value={draft.amount} onChange={set('amount')} inputMode="decimal" required placeholder="0.00" />
        </div>
        <Field label="Note (optional)" value={draft.note} onChange={set('note')} maxLength={200} />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <Button type="submit" variant="primary" busy={busy}>
          Review transfer
        </Button>
      </form>
    </section>
  );
}
