import { TRADING_PAIRS_SEED } from '../../../migrations/1764230700000-Trading';
import {
  PairSpec,
  TradingInputError,
  averagePrice,
  checkMinNotional,
  formatPrice,
  priceDecimals,
  limitHold,
  pairSpecProblems,
  parsePrice,
  parseQuantity,
  percentChange,
  quoteAmount,
} from './trading.math';
import { feeFor } from '../ledger/money';

const seeded = (id: string): PairSpec => {
  const p = TRADING_PAIRS_SEED.find((x) => x.id === id)!;
  return {
    id: p.id,
    base: p.base,
    quote: p.quote,
    tickSize: BigInt(p.tickSize),
    lotSize: BigInt(p.lotSize),
    minPrice: BigInt(p.minPrice),
    maxPrice: BigInt(p.maxPrice),
    maxQuantity: BigInt(p.maxQuantity),
    minNotional: BigInt(p.minNotional),
    status: 'trading',
  };
};
const BTC_USD = seeded('BTC-USD');
const ETH_BTC = seeded('ETH-BTC');

const fieldOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof TradingInputError) return `${e.field}: ${e.message}`;
    throw e;
  }
  throw new Error('did not throw');
};

describe('trading math', () => {
  it('every seeded pair is sound (a fill is never worth zero, ticks and lots fit the engine)', () => {
    expect(TRADING_PAIRS_SEED.map((p) => p.id).sort()).toEqual(['BTC-USD', 'BTC-USDT', 'ETH-BTC', 'ETH-USD']);
    for (const p of TRADING_PAIRS_SEED) expect([p.id, pairSpecProblems(seeded(p.id))]).toEqual([p.id, []]);
    expect(pairSpecProblems({ ...BTC_USD, minPrice: 100n })).toEqual([expect.stringMatching(/below one minor unit/)]);
    expect(pairSpecProblems({ ...BTC_USD, tickSize: 3n })).toEqual([expect.stringMatching(/multiples of the tick size/)]);
  });

  it('parses prices on the tick grid and within bounds, naming the field', () => {
    expect(parsePrice('65000.01', BTC_USD)).toBe(6_500_001n);
    expect(parsePrice('0.0500', ETH_BTC)).toBe(5_000_000n);
    expect(fieldOf(() => parsePrice('0.0500001', ETH_BTC))).toMatch(/^price: price must be a multiple of the tick size 0.00000100/);
    expect(fieldOf(() => parsePrice('65000.001', BTC_USD))).toMatch(/^price: .*too many decimal places/);
    expect(fieldOf(() => parsePrice('99.99', BTC_USD))).toMatch(/^price: price must be between 100.00 and 10000000.00/);
    expect(fieldOf(() => parsePrice(65000, BTC_USD))).toMatch(/^price: price must be a decimal string/);
    expect(fieldOf(() => parsePrice('-1', BTC_USD))).toMatch(/^price: .*negative/);
    expect(fieldOf(() => parsePrice('1e5', BTC_USD))).toMatch(/^price: /);
  });

  it('parses quantities on the lot grid, naming the field', () => {
    expect(parseQuantity('0.0015', BTC_USD)).toBe(150_000n);
    expect(fieldOf(() => parseQuantity('0.00015', BTC_USD))).toMatch(/^quantity: quantity must be a multiple of the lot size 0.00010000/);
    expect(fieldOf(() => parseQuantity('0', BTC_USD))).toMatch(/^quantity: quantity must be greater than zero/);
    expect(fieldOf(() => parseQuantity('10001', BTC_USD))).toMatch(/^quantity: quantity must be at most 10000.00000000/);
    expect(fieldOf(() => parseQuantity('abc', BTC_USD))).toMatch(/^quantity: /);
  });

  it('rounds each fill’s quote amount down (in the buyer’s favour), exactly', () => {
    // 0.0003 BTC at 100.01 USD = 0.030003 USD → 0.03
    expect(quoteAmount(10_001n, 30_000n, BTC_USD)).toBe(3n);
    // Exact when it divides: 0.5 BTC at 65000.00 = 32500.00
    expect(quoteAmount(6_500_000n, 50_000_000n, BTC_USD)).toBe(3_250_000n);
    // 0.3333 ETH at 0.050001 BTC = 0.01666533... BTC → 0.01666533
    expect(quoteAmount(5_000_100n, 333_300_000_000_000_000n, ETH_BTC)).toBe(1_666_533n);
    // The smallest valid fill is worth at least one minor unit.
    expect(quoteAmount(BTC_USD.minPrice, BTC_USD.lotSize, BTC_USD)).toBe(1n);
    expect(quoteAmount(ETH_BTC.minPrice, ETH_BTC.lotSize, ETH_BTC)).toBe(1n);
  });

  it('a buy hold covers any split of its fills at or below its limit (Σ floor ≤ floor Σ)', () => {
    const limitPrice = 10_001n; // 100.01
    const qty = 70_000n; // 0.0007 BTC, 7 lots
    const hold = limitHold('buy', limitPrice, qty, BTC_USD);
    expect(hold).toEqual({ asset: 'USD', amount: 7n }); // 0.070007 → 0.07
    let seed = 7;
    for (let trial = 0; trial < 2000; trial++) {
      let left = 7;
      let spent = 0n;
      while (left > 0) {
        seed = (seed * 48271) % 2147483647;
        const lots = 1 + (seed % left);
        const price = limitPrice - BigInt(seed % 3); // maker prices at or below the limit
        spent += quoteAmount(price, BigInt(lots) * BTC_USD.lotSize, BTC_USD);
        left -= lots;
      }
      expect(spent <= hold.amount).toBe(true);
    }
    expect(limitHold('sell', limitPrice, qty, BTC_USD)).toEqual({ asset: 'BTC', amount: 70_000n });
  });

  it('prints prices with the pair’s price decimals (those of its tick size)', () => {
    const BTC_USDT = seeded('BTC-USDT');
    expect([priceDecimals(BTC_USD), priceDecimals(BTC_USDT), priceDecimals(ETH_BTC)]).toEqual([2, 2, 6]);
    expect(formatPrice(50_000_000_000n, BTC_USDT)).toBe('50000.00');
    expect(formatPrice(4_800_000n, ETH_BTC)).toBe('0.048000');
    expect(formatPrice(6_500_001n, BTC_USD)).toBe('65000.01');
    expect(formatPrice(-10_000n, BTC_USDT)).toBe('-0.01');
    expect(formatPrice(5n, BTC_USDT)).toBe('0.000005'); // off the grid: every digit kept
    expect(parsePrice('50000.000000', BTC_USDT)).toBe(parsePrice('50000', BTC_USDT));
  });

  it('checks the minimum notional of limit orders', () => {
    expect(() => checkMinNotional(10_000n, 10_000n, BTC_USD)).toThrow(/at least 1.00 USD/); // 100.00 × 0.0001 = 0.01
    expect(() => checkMinNotional(6_500_000n, 10_000n, BTC_USD)).not.toThrow(); // 6.50
  });

  it('rounds fees down on what each side receives', () => {
    expect(feeFor(3_250_000n, 25)).toBe(8_125n); // 0.25 % of 32500.00 = 81.25
    expect(feeFor(3n, 25)).toBe(1n); // below a minor unit: rounded up to one
    expect(feeFor(150_000n, 10)).toBe(150n);
    expect(feeFor(999n, 0)).toBe(0n);
    expect(feeFor(999n, 10_000)).toBe(999n);
    expect(() => feeFor(1n, 10_001)).toThrow(RangeError);
  });

  it('averages fill prices half up at the quote precision', () => {
    expect(averagePrice(0n, 0n, BTC_USD)).toBeNull();
    // 0.0001 at 100.00 and 0.0001 at 100.01 → 100.005 → 100.01
    expect(averagePrice(10_000n * 10_000n + 10_001n * 10_000n, 20_000n, BTC_USD)).toBe('100.01');
    // 2 lots at 100.00 and 1 at 100.01 → 100.00333 → 100.00
    expect(averagePrice(10_000n * 20_000n + 10_001n * 10_000n, 30_000n, BTC_USD)).toBe('100.00');
  });

  it('formats the 24 h change as a percentage with two decimals', () => {
    expect(percentChange(10_000n, 10_250n)).toBe('2.50');
    expect(percentChange(10_000n, 9_000n)).toBe('-10.00');
    expect(percentChange(3n, 4n)).toBe('33.33');
    expect(percentChange(3n, 2n)).toBe('-33.33');
    expect(percentChange(300_000n, 300_001n)).toBe('0.00');
    expect(percentChange(20_000n, 20_001n)).toBe('0.01'); // 0.005 rounds away from zero
    expect(percentChange(20_001n, 20_000n)).toBe('0.00'); // -0.0049...
    expect(percentChange(0n, 1n)).toBe('0.00');
  });
});
