import { useState, type FormEvent } from 'react';
import { api, errorText } from '../../lib/api';
import { Button, Field, SelectField, toast } from '../../lib/ui';
import { compareDecimal, isDecimal } from './decimal';
import type { Offer } from './escrow';

export const ASSETS = ['BTC', 'ETH', 'USDT', 'SOFT'];

/** Post an offer: the advertiser buys or sells an asset for fiat within limits. */
export function OfferForm({ onCreated }: { onCreated: (o: Offer) => void }) {
  const [f, setF] = useState({ side: 'sell', asset: 'BTC', fiatCurrency: 'USD', price: '', minAmount: '', maxAmount: '', paymentMethods: 'Bank transfer', paymentWindowMinutes: '15', terms: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const methods = f.paymentMethods.split(',').map((s) => s.trim()).filter(Boolean);
    for (const k of ['price', 'minAmount', 'maxAmount'] as const) {
      if (!isDecimal(f[k]) || compareDecimal(f[k], '0') !== 1) return setError(`${k === 'price' ? 'Price' : k === 'minAmount' ? 'Minimum' : 'Maximum'} must be a positive decimal number`);
    }
    if (compareDecimal(f.minAmount, f.maxAmount) === 1) return setError('Minimum must not exceed maximum');
    if (!methods.length) return setError('Name at least one payment method');
    const minutes = Number(f.paymentWindowMinutes);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) return setError('Payment window must be 1 to 1440 minutes');
    setBusy(true);
    try {
      const offer = await api<Offer>('/crypto/p2p/offers', {
        body: {
          side: f.side,
          asset: f.asset,
          fiatCurrency: f.fiatCurrency.trim().toUpperCase(),
          price: f.price.trim(),
          minAmount: f.minAmount.trim(),
          maxAmount: f.maxAmount.trim(),
          paymentMethods: methods,
          paymentWindowSeconds: minutes * 60,
          ...(f.terms.trim() ? { terms: f.terms.trim() } : {}),
        },
      });
      toast('Offer posted');
      onCreated(offer);
      setF({ ...f, price: '', minAmount: '', maxAmount: '', terms: '' });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="offer-form-title">
      <h2 id="offer-form-title">Post an offer</h2>
      <div className="row">
        <SelectField label="I want to" value={f.side} onChange={set('side')} options={[{ value: 'sell', label: 'Sell crypto' }, { value: 'buy', label: 'Buy crypto' }]} />
        <SelectField label="Asset" value={f.asset} onChange={set('asset')} options={ASSETS.map((a) => ({ value: a, label: a }))} />
        <Field label="Fiat currency" value={f.fiatCurrency} onChange={set('fiatCurrency')} maxLength={3} required />
      </div>
      <div className="row">
        <Field label="Price per unit" inputMode="decimal" value={f.price} onChange={set('price')} required />
        <Field label="Minimum amount" inputMode="decimal" value={f.minAmount} onChange={set('minAmount')} required />
        <Field label="Maximum amount" inputMode="decimal" value={f.maxAmount} onChange={set('maxAmount')} required />
      </div>
      <div className="row">
        <Field label="Payment methods" hint="Comma separated" value={f.paymentMethods} onChange={set('paymentMethods')} required />
        <Field label="Payment window (minutes)" type="number" min={1} max={1440} value={f.paymentWindowMinutes} onChange={set('paymentWindowMinutes')} required />
      </div>
      <Field label="Terms" value={f.terms} onChange={set('terms')} maxLength={1000} />
      {error && <p role="alert" className="error">{error}</p>}
      <div>
        <Button type="submit" variant="primary" busy={busy}>
          Post offer
        </Button>
      </div>
    </form>
  );
}
