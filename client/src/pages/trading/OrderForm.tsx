import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { errorText, newIdempotencyKey } from '../../lib/api';
import { Button, Field, toast } from '../../lib/ui';

const PLACE = `mutation Place($input: PlaceOrderInput!, $key: String) { placeOrder(input: $input, idempotencyKey: $key) { id status side type price quantity filledQuantity } }`;
const DECIMAL = /^\d+(\.\d+)?$/;

export type Pair = { id: string; base: string; quote: string; tickSize: string; lotSize: string; minQuantity: string };

/** Buy or sell, limit or market. One idempotency key per order (kept if the same order is retried). */
export function OrderForm({ pair, onPlaced }: { pair: Pair; onPlaced?: () => void }) {
  const [side, setSide] = useState<'buy' | 'sell'>('buy');
  const [type, setType] = useState<'limit' | 'market'>('limit');
  const [price, setPrice] = useState('');
  const [quantity, setQuantity] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [key, setKey] = useState(newIdempotencyKey);
  const [{ fetching }, place] = useMutation(PLACE);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (type === 'limit' && !DECIMAL.test(price.trim())) return setError(`Price must be a decimal number in ${pair.quote}.`);
    if (!DECIMAL.test(quantity.trim())) return setError(`Amount must be a decimal number in ${pair.base}.`);
    const input = { pairId: pair.id, side, type, quantity: quantity.trim(), ...(type === 'limit' ? { price: price.trim() } : {}) };
    const r = await place({ input, key });
    if (r.error) return setError(errorText(r.error));
    const o = (r.data as { placeOrder: { status: string; filledQuantity: string } }).placeOrder;
    toast(`${side === 'buy' ? 'Buy' : 'Sell'} order ${o.status.replace('_', ' ')} (filled ${o.filledQuantity} ${pair.base})`);
    setKey(newIdempotencyKey());
    setQuantity('');
    onPlaced?.();
  };

  return (
    <form className="stack" onSubmit={submit} aria-label="Place an order">
      <div className="row" role="group" aria-label="Side">
        <div className="segmented">
          <Button aria-pressed={side === 'buy'} onClick={() => setSide('buy')}>
            Buy
          </Button>
          <Button aria-pressed={side === 'sell'} onClick={() => setSide('sell')}>
            Sell
          </Button>
        </div>
        <div className="segmented" role="group" aria-label="Order type">
          <Button aria-pressed={type === 'limit'} onClick={() => setType('limit')}>
            Limit
          </Button>
          <Button aria-pressed={type === 'market'} onClick={() => setType('market')}>
            Market
          </Button>
        </div>
      </div>
      {type === 'limit' && (
        <Field label={`Price (${pair.quote})`} value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" hint={`Tick ${pair.tickSize}`} />
      )}
      <Field label={`Amount (${pair.base})`} value={quantity} onChange={(e) => setQuantity(e.target.value)} inputMode="decimal" hint={`Minimum ${pair.minQuantity}, step ${pair.lotSize}`} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Button type="submit" className={side === 'buy' ? 'btn-buy' : 'btn-sell'} busy={fetching}>
        {side === 'buy' ? `Buy ${pair.base}` : `Sell ${pair.base}`}
      </Button>
    </form>
  );
}
