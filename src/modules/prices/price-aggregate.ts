import { DecimalError, formatDecimal, parseDecimal } from '../ledger/money';
import type { SourceQuote } from './providers/price-provider';

/** The contract's price, plus where it came from. */
export interface PriceView {
  symbol: string;
  price: string;
  currency: 'USD';
  change24h: string | null;
  /** The provider whose price this is, "median" when sources disagreed, "fixed" for USD. */
  source: string;
  updatedAt: string;
  /** Every fresh source's own quote. */
  sources: { source: string; price: string; change24h: string | null; updatedAt: string }[];
  /** True when the sources' spread exceeded the threshold (the median was served). */
  disagreement: boolean;
  spreadBps: number;
}

/**
 * One price out of several sources' quotes (given in order of preference). When they agree
 * within `thresholdBps` the preferred source's price is served; when they disagree, that is said
 * (`disagreement: true`, logged by the caller) and the median is served instead: with three or
 * more sources one outlier cannot move it. Pure.
 */
export function aggregate(symbol: string, quotes: SourceQuote[], thresholdBps: number, now = new Date()): PriceView | null {
  if (!quotes.length) return null;
  const values = quotes.map((q) => parseDecimal(q.price));
  const spread = spreadBps(values);
  const sources = quotes.map((q) => ({ source: q.source, price: q.price, change24h: q.change24h, updatedAt: q.updatedAt }));
  const disagreement = quotes.length > 1 && spread > thresholdBps;
  if (!disagreement) {
    const q = quotes[0];
    return { symbol, price: q.price, currency: 'USD', change24h: q.change24h, source: q.source, updatedAt: q.updatedAt, sources, disagreement, spreadBps: spread };
  }
  const m = median(values);
  // The 24 h change of the source closest to the median.
  let closest = 0;
  for (let i = 1; i < values.length; i++) {
    const d = (x: bigint) => (x - m < 0n ? m - x : x - m);
    if (d(values[i]) < d(values[closest])) closest = i;
  }
  return {
    symbol,
    price: formatDecimal(m),
    currency: 'USD',
    change24h: quotes[closest].change24h,
    source: 'median',
    updatedAt: now.toISOString(),
    sources,
    disagreement,
    spreadBps: spread,
  };
}

/** The median of scaled values: the middle one, or the mean of the two middle ones. */
export function median(values: bigint[]): bigint {
  if (!values.length) throw new DecimalError('median of nothing');
  const v = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2n;
}

/** (max − min) / median in basis points (0 for one value). */
export function spreadBps(values: bigint[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  if (m <= 0n) return 0;
  let lo = values[0];
  let hi = values[0];
  for (const x of values) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return Number(((hi - lo) * 10_000n) / m);
}
