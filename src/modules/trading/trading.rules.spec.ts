import { DomainError } from '../../core/http/domain-error';
import type { PairSpec } from './trading.math';
import { isSamePlacement, placementHold, validatePlacement } from './trading.rules';
import { OrderState } from './trading.views';

const pair: PairSpec = {
  id: 'BTC-USD',
  base: 'BTC',
  quote: 'USD',
  tickSize: 1n,
  lotSize: 10_000n,
  minPrice: 100n,
  maxPrice: 100_000_000n,
  maxQuantity: 100_000_000_000n,
  minNotional: 100n,
  status: 'trading',
};
const NOW = Date.UTC(2026, 0, 1);

const refusal = (fn: () => unknown): { code: string; message: string; field?: unknown } => {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, message: e.message, field: e.details?.field };
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('validatePlacement', () => {
  it('reads a limit order exactly and defaults to GTC', () => {
    const v = validatePlacement({ pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '65000.00', quantity: '0.0100' }, pair, NOW);
    expect(v).toEqual({ side: 'buy', type: 'limit', tif: 'GTC', price: 6_500_000n, quantity: 1_000_000n, expiresAt: null });
  });

  it('makes a market order IOC unless it asks for FOK, and refuses a price on it', () => {
    expect(validatePlacement({ pairId: 'BTC-USD', side: 'sell', type: 'market', quantity: '1' }, pair, NOW).tif).toBe('IOC');
    expect(validatePlacement({ pairId: 'BTC-USD', side: 'sell', type: 'market', quantity: '1', timeInForce: 'FOK' }, pair, NOW).tif).toBe('FOK');
    expect(refusal(() => validatePlacement({ pairId: 'BTC-USD', side: 'sell', type: 'market', quantity: '1', price: '1' }, pair, NOW)).message).toMatch(/price must not be given/);
  });

  it('names the field of a bad number', () => {
    const r = refusal(() => validatePlacement({ pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '65000.00', quantity: '0.00001' }, pair, NOW));
    expect(r).toMatchObject({ code: 'BAD_REQUEST', field: 'quantity' });
  });

  it('takes expiresAt as GTD, within 90 days, and only for GTD', () => {
    const at = new Date(NOW + 3_600_000).toISOString();
    const v = validatePlacement({ pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '1.00', quantity: '1', expiresAt: at }, pair, NOW);
    expect(v.tif).toBe('GTD');
    expect(v.expiresAt?.toISOString()).toBe(at);
    const far = new Date(NOW + 91 * 86_400_000).toISOString();
    expect(refusal(() => validatePlacement({ pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '1.00', quantity: '1', expiresAt: far }, pair, NOW)).message).toMatch(/90 days/);
    expect(
      refusal(() => validatePlacement({ pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '1.00', quantity: '1', timeInForce: 'IOC', expiresAt: at }, pair, NOW)).message,
    ).toMatch(/only valid with timeInForce GTD/);
  });
});

describe('placementHold', () => {
  const limitBuy = { side: 'buy' as const, type: 'limit' as const, tif: 'GTC' as const, price: 6_500_000n, quantity: 1_000_000n, expiresAt: null };

  it('a resting limit order holds its full size, whatever the book', () => {
    expect(placementHold(limitBuy, pair, { lots: 100, filledLots: 0, segments: [] })).toEqual({ asset: 'USD', amount: 65_000n });
    expect(placementHold({ ...limitBuy, side: 'sell' }, pair, { lots: 100, filledLots: 0, segments: [] })).toEqual({ asset: 'BTC', amount: 1_000_000n });
  });

  it('a market buy holds exactly the cost of what it can fill now', () => {
    const v = { ...limitBuy, type: 'market' as const, tif: 'IOC' as const, price: null };
    // 50 lots at 6_500_000 ticks, 20 at 6_600_000: 0.005 BTC × 65000 + 0.002 BTC × 66000.
    const hold = placementHold(v, pair, { lots: 100, filledLots: 70, segments: [{ price: 6_500_000, qty: 50 }, { price: 6_600_000, qty: 20 }] });
    expect(hold).toEqual({ asset: 'USD', amount: 32_500n + 13_200n });
  });

  it('a FOK that cannot fill completely holds nothing; a market sell holds what it will sell', () => {
    const fok = { ...limitBuy, tif: 'FOK' as const };
    expect(placementHold(fok, pair, { lots: 100, filledLots: 70, segments: [{ price: 6_500_000, qty: 70 }] }).amount).toBe(0n);
    const sell = { ...limitBuy, side: 'sell' as const, type: 'market' as const, tif: 'IOC' as const, price: null };
    expect(placementHold(sell, pair, { lots: 100, filledLots: 30, segments: [{ price: 6_500_000, qty: 30 }] })).toEqual({ asset: 'BTC', amount: 300_000n });
  });
});

describe('isSamePlacement', () => {
  const v = { side: 'buy' as const, type: 'limit' as const, tif: 'GTC' as const, price: 6_500_000n, quantity: 1_000_000n, expiresAt: null };
  const order = (over: Partial<OrderState>) => Object.assign(new OrderState(), { pairId: 'BTC-USD', side: 'buy', type: 'limit', tif: 'GTC', price: 6_500_000n, quantity: 1_000_000n, holdRev: 0 }, over);

  it('is the same order when nothing differs', () => expect(isSamePlacement(order({}), pair, v)).toBe(true));
  it('is another order when the size differs', () => expect(isSamePlacement(order({ quantity: 2_000_000n }), pair, v)).toBe(false));
  it('a replaced order is compared only on what a replace cannot change', () => {
    expect(isSamePlacement(order({ quantity: 2_000_000n, holdRev: 1 }), pair, v)).toBe(true);
    expect(isSamePlacement(order({ side: 'sell', holdRev: 1 }), pair, v)).toBe(false);
  });
});
