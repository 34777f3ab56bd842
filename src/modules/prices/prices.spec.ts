import { formatDecimal, normalizeDecimal, parseDecimal } from '../ledger/money';
import { median, spreadBps } from './price-aggregate';
import { aggregate } from './price-aggregate';
import { internalQuotes } from './providers/internal.provider';
import { JsonNumber, numberText, parseLosslessJson } from './providers/provider-json';
import { retryAfterMs, SourceQuote } from './providers/price-provider';

const q = (source: string, price: string, change24h: string | null = null): SourceQuote => ({
  symbol: 'BTC',
  source,
  price,
  change24h,
  updatedAt: '2025-01-01T00:00:00.000Z',
});

describe('prices (pure parts)', () => {
  it('parses JSON keeping numbers as their text', () => {
    const v = parseLosslessJson('{"bitcoin":{"usd":67187.33580000001,"usd_24h_change":-3.6e-1},"n":[1,true,null,"x\\u0041"]}') as any;
    expect(v.bitcoin.usd).toBeInstanceOf(JsonNumber);
    expect(numberText(v.bitcoin.usd)).toBe('67187.33580000001');
    expect(numberText(v.bitcoin.usd_24h_change)).toBe('-3.6e-1');
    expect(v.n.slice(1)).toEqual([true, null, 'xA']);
    expect(numberText('4.00000200')).toBe('4.00000200');
    expect(numberText('abc')).toBeNull();
    for (const bad of ['{"a":1,}', '[1 2]', '{"a":01}', 'nul', '{"a":"\x01"}', '1 2', '']) expect(() => parseLosslessJson(bad)).toThrow(SyntaxError);
    expect(Object.getPrototypeOf(parseLosslessJson('{"__proto__":{"x":1}}'))).toBe(Object.prototype);
  });

  it('handles decimals exactly, with exponents, rounding half away from zero', () => {
    expect(normalizeDecimal('67187.33580000001')).toBe('67187.3358');
    expect(normalizeDecimal('6.7187335e4')).toBe('67187.335');
    expect(normalizeDecimal('1E-9')).toBe('0.00');
    expect(normalizeDecimal('0.000000005')).toBe('0.00000001');
    expect(normalizeDecimal('-3.6049', 2, 2)).toBe('-3.60');
    expect(normalizeDecimal('-0.004', 2, 2)).toBe('0.00');
    expect(normalizeDecimal('2', 8, 2)).toBe('2.00');
    expect(formatDecimal(parseDecimal('1.23456789123'), 8, 2)).toBe('1.23456789');
    expect(() => parseDecimal('1.2.3')).toThrow();
    expect(() => parseDecimal('1e999')).toThrow();
    expect(median([3n, 1n, 2n])).toBe(2n);
    expect(median([4n, 1n, 2n, 3n])).toBe(2n); // (2 + 3) / 2 rounded toward zero in 10^-18 units
    expect(spreadBps([parseDecimal('100'), parseDecimal('101')])).toBe(99);
  });

  it('serves the preferred source when sources agree, and the median (flagged) when they do not', () => {
    const agree = aggregate('BTC', [q('coingecko', '67000.10', '1.00'), q('binance', '67020.00', '1.10')], 100)!;
    expect(agree).toMatchObject({ price: '67000.10', source: 'coingecko', change24h: '1.00', disagreement: false, spreadBps: 2 });
    expect(agree.sources.map((s) => s.source)).toEqual(['coingecko', 'binance']);
    const outlier = aggregate('BTC', [q('coingecko', '67000.00', '1.00'), q('coinmarketcap', '67100.00', '1.20'), q('binance', '60000.00', '-9.00')], 100)!;
    expect(outlier).toMatchObject({ price: '67000.00', source: 'median', change24h: '1.00', disagreement: true });
    expect(outlier.spreadBps).toBeGreaterThan(1000);
    const two = aggregate('BTC', [q('coingecko', '100.00'), q('internal', '110.00')], 100)!;
    expect(two).toMatchObject({ price: '105.00', source: 'median', disagreement: true });
    expect(aggregate('BTC', [q('internal', '1.00')], 100)).toMatchObject({ price: '1.00', source: 'internal', disagreement: false });
    expect(aggregate('BTC', [], 100)).toBeNull();
  });

  it('derives USD prices from the platform’s own pairs', () => {
    const at = new Date('2025-01-02T00:00:00Z');
    const quotes = internalQuotes(
      [
        { pairId: 'BTC-USD', base: 'BTC', quote: 'USD', last: 6_000_000n, open24h: 5_000_000n, at }, // 60000.00, +20 %
        { pairId: 'BTC-USDT', base: 'BTC', quote: 'USDT', last: 60_060_000_000n, open24h: null, at }, // 60060.00 USDT
        { pairId: 'ETH-BTC', base: 'ETH', quote: 'BTC', last: 5_000_000n, open24h: null, at }, // 0.05 BTC
        { pairId: 'ETH-USD', base: 'ETH', quote: 'USD', last: null, open24h: null, at: null },
      ],
      ['BTC', 'ETH', 'USDT', 'SOFT', 'USD'],
    );
    expect(quotes.map((x) => [x.symbol, x.price, x.change24h])).toEqual([
      ['BTC', '60000.00', '20.00'],
      ['ETH', '3000.00', null],
      ['USDT', '0.999001', null],
    ]);
    // A direct USD pair wins over a derived price.
    const direct = internalQuotes(
      [
        { pairId: 'ETH-BTC', base: 'ETH', quote: 'BTC', last: 5_000_000n, open24h: null, at },
        { pairId: 'ETH-USD', base: 'ETH', quote: 'USD', last: 310_000n, open24h: 300_000n, at },
        { pairId: 'BTC-USD', base: 'BTC', quote: 'USD', last: 6_000_000n, open24h: null, at },
      ],
      ['ETH'],
    );
    expect(direct).toEqual([{ symbol: 'ETH', price: '3100.00', change24h: '3.33', updatedAt: at.toISOString(), source: 'internal' }]);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '30' }))).toBe(30_000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:01:00 GMT' }), now)).toBe(60_000);
    expect(retryAfterMs(new Headers())).toBeNull();
  });
});
