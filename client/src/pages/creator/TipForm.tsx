import { useState, type FormEvent } from 'react';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { Amount, Button, Field, SelectField, toast } from '../../lib/ui';
import { compareDecimal, isDecimal } from '../p2p/decimal';
import type { Tip } from './series';

const ASSETS = ['USDT', 'SOFT', 'BTC', 'ETH', 'USD'];

/** Tip a creator: asset, amount and a message, confirmed before the money moves (one idempotency key per tip). */
export function TipForm({ creatorId, username }: { creatorId: string; username: string }) {
  const [asset, setAsset] = useState('USDT');
  const [amount, setAmount] = useState('');
  const [message, setMessage] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [key, setKey] = useState(newIdempotencyKey);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function review(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!isDecimal(amount.trim()) || compareDecimal(amount.trim(), '0') !== 1) return setError('Amount must be a positive decimal number');
    setConfirming(true);
  }

  async function send() {
    setBusy(true);
    setError(null);
    try {
      const tip = await api<Tip>(`/creator/${creatorId}/tips`, {
        body: { asset, amount: amount.trim(), ...(message.trim() ? { message: message.trim() } : {}) },
        idempotencyKey: key,
      });
      toast(`Tipped ${tip.amount} ${tip.asset} to ${username}`);
      setAmount('');
      setMessage('');
      setConfirming(false);
      setKey(newIdempotencyKey());
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card stack" aria-labelledby="tip-title">
      <h2 id="tip-title">Tip {username}</h2>
      {!confirming ? (
        <form className="stack" onSubmit={review}>
          <div className="row">
            <SelectField label="Tip asset" value={asset} onChange={(e) => setAsset(e.target.value)} options={ASSETS.map((a) => ({ value: a, label: a }))} />
            <Field label="Tip amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} required />
          </div>
          <Field label="Tip message" value={message} onChange={(e) => setMessage(e.target.value)} maxLength={280} />
          <div>
            <Button type="submit" variant="primary">
              Review tip
            </Button>
          </div>
        </form>
      ) : (
        <div className="stack" role="group" aria-labelledby="tip-confirm">
          <p id="tip-confirm">
            Send <Amount value={amount.trim()} asset={asset} /> to {username}
            {message.trim() ? ` with “${message.trim()}”` : ''}?
          </p>
          <div className="row">
            <Button variant="primary" busy={busy} onClick={() => void send()}>
              Confirm tip
            </Button>
            <Button variant="ghost" disabled={busy} onClick={() => setConfirming(false)}>
              Back
            </Button>
          </div>
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
