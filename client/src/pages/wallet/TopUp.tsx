import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, errorText, newIdempotencyKey } from '../../lib/api';
import { Button, Field, SelectField } from '../../lib/ui';

type Provider = { provider: string; kind: 'fiat' | 'crypto'; assets: string[]; enabled: boolean };
type Payment = { id: string; status: string; checkoutUrl: string | null };

const NAMES: Record<string, string> = {
  stripe: 'Card (Stripe)',
  paypal: 'PayPal',
  flutterwave: 'Flutterwave',
  coinbase_commerce: 'Coinbase Commerce',
  bitpay: 'BitPay',
  coinpayments: 'CoinPayments',
};

/**
 * Top up through whatever `GET /api/payments/providers` reports: enabled providers get the form,
 * disabled ones are listed as unavailable; when the payments module is absent (404) nothing shows.
 */
export function TopUp({ open = (url: string) => window.location.assign(url) }: { open?: (url: string) => void }) {
  const [providers, setProviders] = useState<Provider[] | null>(null);
  const [provider, setProvider] = useState('');
  const [amount, setAmount] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [key, setKey] = useState(newIdempotencyKey);

  useEffect(() => {
    api<Provider[]>('/payments/providers')
      .then((p) => {
        setProviders(p);
        setProvider(p.find((x) => x.enabled)?.provider ?? '');
      })
      .catch((e) => {
        if (!(e instanceof ApiError && e.status === 404)) setError(errorText(e));
        setProviders([]);
      });
  }, []);

  if (!providers || (providers.length === 0 && !error)) return null;
  const enabled = providers.filter((p) => p.enabled);
  const chosen = enabled.find((p) => p.provider === provider);
  const asset = chosen?.assets.includes('USD') || !chosen ? 'USD' : chosen.assets[0];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!/^\d+(\.\d{1,2})?$/.test(amount.trim())) return setError('Amount must be a number of dollars, e.g. 25 or 25.50.');
    setBusy(true);
    try {
      const p = await api<Payment>('/payments/checkout', { body: { provider, asset, amount: amount.trim() }, idempotencyKey: key });
      setKey(newIdempotencyKey());
      if (p.checkoutUrl) open(p.checkoutUrl);
      else setError(`Payment ${p.status}: the provider gave no checkout page.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card stack" aria-labelledby="topup-h">
      <h2 id="topup-h">Top up</h2>
      {enabled.length > 0 ? (
        <form className="stack" onSubmit={submit}>
          <div className="row">
            <SelectField
              label="Pay with"
              value={provider}
              onChange={(e) => setProvider(e.target.value)}
              options={enabled.map((p) => ({ value: p.provider, label: `${NAMES[p.provider] ?? p.provider} (${p.kind})` }))}
            />
            <Field label="Amount (USD)" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" required placeholder="25.00" />
          </div>
          <Button type="submit" variant="primary" busy={busy}>
            Continue to payment
          </Button>
        </form>
      ) : (
        <p className="muted">No payment provider is configured on this server yet.</p>
      )}
      {providers.some((p) => !p.enabled) && (
        <p className="muted">
          Unavailable: {providers.filter((p) => !p.enabled).map((p) => NAMES[p.provider] ?? p.provider).join(', ')}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
