import { getAsset, AssetSymbol } from '../../ledger/assets';
import type { MarketDataService } from '../../trading/market-data.service';
import { percentChange } from '../../trading/trading.math';
import { DECIMAL_SCALE, divScaled, formatDecimal, mulScaled, SCALED_ONE } from '../../ledger/money';
import { PriceProvider, ProviderAnswer, SourceQuote } from './price-provider';

export interface InternalTicker {
  pairId: string;
  base: AssetSymbol;
  quote: AssetSymbol;
  /** Last trade price, quote minor units per whole base unit. */
  last: bigint | null;
  /** First trade price of the last 24 h. */
  open24h: bigint | null;
  at: Date | null;
}

/**
 * USD prices from the platform's own trades: an asset traded against USD takes its last price;
 * others are derived through the pairs that connect them (ETH-BTC × BTC-USD, or USDT from
 * BTC-USD ÷ BTC-USDT). The 24 h change is only given for direct USD pairs. Pure.
 */
export function internalQuotes(tickers: InternalTicker[], symbols: string[], now = new Date()): SourceQuote[] {
  const usd = new Map<string, { value: bigint; change: string | null; at: Date }>();
  usd.set('USD', { value: SCALED_ONE, change: '0.00', at: now });
  const traded = tickers
    .filter((t) => t.last !== null && t.last > 0n)
    // Direct USD pairs first, then the rest, so a direct price always wins over a derived one.
    .sort((a, b) => Number(b.quote === 'USD') - Number(a.quote === 'USD'));
  for (let pass = 0; pass < 4; pass++) {
    let progressed = false;
    for (const t of traded) {
      const price = t.last! * 10n ** BigInt(DECIMAL_SCALE - getAsset(t.quote).decimals);
      const at = t.at ?? now;
      const q = usd.get(t.quote);
      const b = usd.get(t.base);
      if (q && !b) {
        const change = t.quote === 'USD' && t.open24h ? percentChange(t.open24h, t.last!) : null;
        usd.set(t.base, { value: mulScaled(price, q.value), change, at });
        progressed = true;
      } else if (b && !q && price > 0n) {
        usd.set(t.quote, { value: divScaled(b.value, price), change: null, at });
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  const out: SourceQuote[] = [];
  for (const symbol of symbols) {
    const v = usd.get(symbol);
    if (!v || symbol === 'USD') continue;
    out.push({ symbol, price: formatDecimal(v.value), change24h: v.change, updatedAt: v.at.toISOString(), source: 'internal' });
  }
  return out;
}

/** The offline provider: the platform's own trades (always available, no network). */
export class InternalProvider implements PriceProvider {
  readonly name = 'internal';
  readonly minIntervalMs = 0;
  constructor(private readonly market: MarketDataService) {}

  supports() {
    return true;
  }

  async fetchQuotes(symbols: string[]): Promise<ProviderAnswer> {
    const tickers = await this.market.tickers();
    return {
      quotes: internalQuotes(
        tickers.map((t) => ({ pairId: t.pair.id, base: t.pair.base, quote: t.pair.quote, last: t.last, open24h: t.open24h, at: t.at })),
        symbols,
      ),
    };
  }
}
