/**
 * Exact arithmetic of the trading board. Pure functions: no database, no Nest.
 *
 * Units
 * - A quantity is in minor units of the base asset (satoshi for BTC, wei for ETH).
 * - A price is in minor units of the quote asset per ONE WHOLE unit of the base asset
 *   (BTC-USD "65000.00" is 6500000 cents per bitcoin).
 * - Inside the matching engine prices are ticks (price / tickSize) and quantities lots
 *   (quantity / lotSize): small integers, exact as JS numbers.
 *
 * Rounding rules (all tested in trading.math.spec.ts)
 * 1. Quote amount of a fill = floor(price × quantity / 10^baseDecimals), in quote minor units.
 *    The buyer pays exactly this and the seller receives exactly this: one movement, nothing
 *    created or destroyed. The rounding (less than one quote minor unit per fill) favours the buyer.
 * 2. Every valid order has price ≥ minPrice and quantity a multiple of lotSize, and each pair is
 *    defined so that minPrice × lotSize ≥ one quote minor unit: no fill is ever worth zero.
 * 3. A limit buy holds floor(limitPrice × quantity / 10^baseDecimals). Whatever its fills (each at
 *    a maker price ≤ the limit), Σ floor(pᵢ × qᵢ / S) ≤ floor(Σ pᵢ × qᵢ / S) ≤ floor(limit × quantity / S),
 *    so the hold always covers it; what is left when the order ends is released exactly.
 *    A market buy holds exactly the cost of the fills computed under the pair lock; a sell holds
 *    its base quantity (a market sell: the quantity it will fill).
 * 4. The trading fee (TRADING_FEE_BPS) is charged on what each side receives, in that asset:
 *    the buyer pays ceil(baseReceived × bps / 10000) of the base asset, the seller
 *    ceil(quoteReceived × bps / 10000) of the quote asset, each as its own ledger movement to the
 *    fee account, computed by ledger/money.ts feeFor (the one fee function): rounded up to the next
 *    minor unit, so tiny fills are not fee-free. No fee needs to be held in advance.
 * 5. averagePrice = Σ pᵢ × qᵢ / Σ qᵢ, rounded half up to the quote asset's decimals (display only).
 * 6. change24h is a percentage with two decimals, rounded half away from zero.
 */
import { AssetSymbol, getAsset, isAssetSymbol } from '../ledger/assets';
import { formatAmount, MoneyFormatError, mulDivFloor, parseAmount, pow10 } from '../ledger/money';

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'limit' | 'market';
export type OrderTif = 'GTC' | 'IOC' | 'FOK' | 'GTD';
export type OrderStatus = 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

export const ORDER_SIDES: readonly OrderSide[] = ['buy', 'sell'];
export const ORDER_TYPES: readonly OrderType[] = ['limit', 'market'];
export const ORDER_TIFS: readonly OrderTif[] = ['GTC', 'IOC', 'FOK', 'GTD'];
export const ORDER_STATUSES: readonly OrderStatus[] = ['open', 'partially_filled', 'filled', 'cancelled', 'rejected'];
export const RESTING_STATUSES: readonly OrderStatus[] = ['open', 'partially_filled'];

export interface PairSpec {
  id: string;
  base: AssetSymbol;
  quote: AssetSymbol;
  /** Price increment, quote minor units. */
  tickSize: bigint;
  /** Quantity increment (and minimum quantity), base minor units. */
  lotSize: bigint;
  minPrice: bigint;
  maxPrice: bigint;
  maxQuantity: bigint;
  /** Minimum price × quantity of a limit order, quote minor units. */
  minNotional: bigint;
  status: 'trading' | 'halted';
}

/** 10^baseDecimals: the divisor that turns price × quantity into quote minor units. */
export const scaleOf = (pair: Pick<PairSpec, 'base'>): bigint => pow10(getAsset(pair.base).decimals);

/** Problems with a pair's definition (empty when it is sound). Checked at boot. */
export function pairSpecProblems(p: PairSpec): string[] {
  const out: string[] = [];
  if (!isAssetSymbol(p.base) || !isAssetSymbol(p.quote)) return [`${p.id}: unknown asset`];
  if (p.base === p.quote) out.push(`${p.id}: base and quote must differ`);
  if (p.id !== `${p.base}-${p.quote}`) out.push(`${p.id}: id must be BASE-QUOTE`);
  for (const [k, v] of Object.entries({ tickSize: p.tickSize, lotSize: p.lotSize, minPrice: p.minPrice, maxPrice: p.maxPrice, maxQuantity: p.maxQuantity, minNotional: p.minNotional })) {
    if (v <= 0n) out.push(`${p.id}: ${k} must be positive`);
  }
  if (out.length) return out;
  if (p.minPrice % p.tickSize !== 0n || p.maxPrice % p.tickSize !== 0n) out.push(`${p.id}: min/max price must be multiples of the tick size`);
  if (p.maxQuantity % p.lotSize !== 0n) out.push(`${p.id}: maxQuantity must be a multiple of the lot size`);
  if (p.minPrice * p.lotSize < scaleOf(p)) out.push(`${p.id}: minPrice × lotSize is below one minor unit of ${p.quote} (a fill could be worth nothing)`);
  if (p.maxPrice / p.tickSize > BigInt(Number.MAX_SAFE_INTEGER) || p.maxQuantity / p.lotSize > BigInt(Number.MAX_SAFE_INTEGER)) {
    out.push(`${p.id}: ticks or lots exceed 2^53`);
  }
  // The engine sums lots per level and per side: keep a million max-size orders exact.
  if ((p.maxQuantity / p.lotSize) * 1_000_000n > BigInt(Number.MAX_SAFE_INTEGER)) out.push(`${p.id}: maxQuantity in lots is too large`);
  return out;
}

export class TradingInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'TradingInputError';
  }
}

function parse(input: unknown, asset: AssetSymbol, field: string): bigint {
  try {
    return parseAmount(input, asset, field);
  } catch (e) {
    if (e instanceof MoneyFormatError) throw new TradingInputError(e.field, e.message);
    throw e;
  }
}

/** A client price: a decimal string, a multiple of the tick size, within [minPrice, maxPrice]. */
export function parsePrice(input: unknown, pair: PairSpec, field = 'price'): bigint {
  const price = parse(input, pair.quote, field);
  if (price % pair.tickSize !== 0n) {
    throw new TradingInputError(field, `${field} must be a multiple of the tick size ${formatAmount(pair.tickSize, pair.quote)} for ${pair.id}`);
  }
  if (price < pair.minPrice || price > pair.maxPrice) {
    throw new TradingInputError(
      field,
      `${field} must be between ${formatAmount(pair.minPrice, pair.quote)} and ${formatAmount(pair.maxPrice, pair.quote)} for ${pair.id}`,
    );
  }
  return price;
}

/** A client quantity: a decimal string of the base asset, a multiple of the lot size, at most maxQuantity. */
export function parseQuantity(input: unknown, pair: PairSpec, field = 'quantity'): bigint {
  const qty = parse(input, pair.base, field);
  if (qty % pair.lotSize !== 0n) {
    throw new TradingInputError(field, `${field} must be a multiple of the lot size ${formatAmount(pair.lotSize, pair.base)} for ${pair.id}`);
  }
  if (qty > pair.maxQuantity) {
    throw new TradingInputError(field, `${field} must be at most ${formatAmount(pair.maxQuantity, pair.base)} for ${pair.id}`);
  }
  return qty;
}

/** Rule 1: the quote amount of a fill (also what a limit buy holds for its full quantity, rule 3). */
export function quoteAmount(price: bigint, quantity: bigint, pair: Pick<PairSpec, 'base'>): bigint {
  return mulDivFloor(price, quantity, scaleOf(pair));
}

/** Rule 2 for limit orders: price × quantity at least the pair's minimum notional. */
export function checkMinNotional(price: bigint, quantity: bigint, pair: PairSpec): void {
  if (quoteAmount(price, quantity, pair) < pair.minNotional) {
    throw new TradingInputError(
      'quantity',
      `price × quantity must be at least ${formatAmount(pair.minNotional, pair.quote)} ${pair.quote} for ${pair.id}`,
    );
  }
}

/** What a limit order holds (rule 3): asset and amount. */
export function limitHold(side: OrderSide, price: bigint, quantity: bigint, pair: PairSpec): { asset: AssetSymbol; amount: bigint } {
  return side === 'buy' ? { asset: pair.quote, amount: quoteAmount(price, quantity, pair) } : { asset: pair.base, amount: quantity };
}

/** Decimals of the pair's prices: those of the tick size (0.01 → 2), at most the quote asset's. */
export function priceDecimals(pair: Pick<PairSpec, 'quote' | 'tickSize'>): number {
  const quoteDecimals = getAsset(pair.quote).decimals;
  let t = pair.tickSize;
  let zeros = 0;
  while (t % 10n === 0n && zeros < quoteDecimals) {
    t /= 10n;
    zeros += 1;
  }
  return quoteDecimals - zeros;
}

/** A price on the pair's grid as a decimal string with the pair's price decimals ("50000.00" on BTC-USDT). */
export function formatPrice(price: bigint, pair: Pick<PairSpec, 'quote' | 'tickSize'>): string {
  const s = formatAmount(price, pair.quote);
  const cut = getAsset(pair.quote).decimals - priceDecimals(pair);
  if (cut === 0) return s;
  const tail = s.slice(s.length - cut);
  if (!/^0+$/.test(tail)) return s; // not on the grid (cannot happen for validated prices): keep every digit
  const out = s.slice(0, s.length - cut);
  return out.endsWith('.') ? out.slice(0, -1) : out;
}

/** Rule 5. `notional` = Σ priceᵢ × quantityᵢ (unscaled). Null when nothing filled. */
export function averagePrice(notional: bigint, filled: bigint, pair: PairSpec): string | null {
  if (filled === 0n) return null;
  const q = notional / filled;
  const r = notional % filled;
  return formatAmount(r * 2n >= filled ? q + 1n : q, pair.quote);
}

/** Rule 6: (last − open) / open as a percentage string with two decimals. */
export function percentChange(open: bigint, last: bigint): string {
  if (open <= 0n) return '0.00';
  const num = (last - open) * 10_000n;
  const neg = num < 0n;
  const abs = neg ? -num : num;
  let q = abs / open;
  if ((abs % open) * 2n >= open) q += 1n;
  const s = q.toString().padStart(3, '0');
  const body = `${s.slice(0, -2)}.${s.slice(-2)}`;
  return neg && q !== 0n ? `-${body}` : body;
}

/**
 * Ticks and lots for the engine: integer COUNTS of ticks/lots, never amounts. The division is
 * bigint (exact; inputs were validated as multiples), and a count outside the safe-integer range
 * is refused here rather than rounded (pairs bound price and quantity far below it).
 */
function toCount(units: bigint, size: bigint, what: string): number {
  const n = units / size;
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${what} count ${n} is beyond the engine's exact range`);
  return Number(n);
}
export const toTicks = (price: bigint, pair: PairSpec): number => toCount(price, pair.tickSize, 'tick');
export const toLots = (qty: bigint, pair: PairSpec): number => toCount(qty, pair.lotSize, 'lot');
export const fromTicks = (ticks: number, pair: PairSpec): bigint => BigInt(ticks) * pair.tickSize;
export const fromLots = (lots: number, pair: PairSpec): bigint => BigInt(lots) * pair.lotSize;
