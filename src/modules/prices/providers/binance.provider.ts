import { normalizeDecimal } from '../../ledger/money';
import { isObject, numberText } from './provider-json';
import { PriceProvider, ProviderAnswer, ProviderError, SourceQuote, getJson } from './price-provider';

const SYMBOLS: Record<string, string> = { BTC: 'BTCUSDT', ETH: 'ETHUSDT' };
/** Binance allows 6000 request weight a minute per IP; stop well before it. */
const WEIGHT_LIMIT = 6000;

/**
 * Binance spot "24hr ticker": GET {base}/api/v3/ticker/24hr?symbols=["BTCUSDT","ETHUSDT"]
 * (`X-MBX-APIKEY` when a key is configured; market data needs none). Answer: an array of
 * {"symbol","lastPrice","priceChangePercent","closeTime",...} with decimal strings. Prices are
 * in USDT, taken as USD (documented assumption). Rate limits: 429 with Retry-After, 418 when
 * the IP is banned; `X-MBX-USED-WEIGHT-1M` reports the weight used this minute.
 */
export class BinanceProvider implements PriceProvider {
  readonly name = 'binance';
  constructor(private readonly opts: { baseUrl: string; apiKey: string | null; timeoutMs: number; minIntervalMs: number }) {}

  get minIntervalMs() {
    return this.opts.minIntervalMs;
  }

  supports(symbol: string) {
    return symbol in SYMBOLS;
  }

  async fetchQuotes(symbols: string[]): Promise<ProviderAnswer> {
    const wanted = symbols.filter((s) => this.supports(s));
    if (!wanted.length) return { quotes: [] };
    const qs = new URLSearchParams({ symbols: JSON.stringify(wanted.map((s) => SYMBOLS[s])) });
    const headers: Record<string, string> = this.opts.apiKey ? { 'X-MBX-APIKEY': this.opts.apiKey } : {};
    const { body, headers: h } = await getJson(this.name, `${this.opts.baseUrl.replace(/\/+$/, '')}/api/v3/ticker/24hr?${qs}`, headers, this.opts.timeoutMs);
    if (!Array.isArray(body)) throw new ProviderError(this.name, 'unexpected answer shape');
    const out: SourceQuote[] = [];
    for (const symbol of wanted) {
      const t = body.find((x) => isObject(x) && x.symbol === SYMBOLS[symbol]);
      if (!isObject(t)) continue;
      const price = numberText(t.lastPrice);
      if (price === null) continue;
      const change = numberText(t.priceChangePercent);
      const close = numberText(t.closeTime);
      out.push({
        symbol,
        price: normalizeDecimal(price),
        change24h: change === null ? null : normalizeDecimal(change, 2, 2),
        updatedAt: close ? new Date(Number(close)).toISOString() : new Date().toISOString(),
        source: this.name,
      });
    }
    // Near the weight limit: keep these quotes, but wait for the next minute before calling again.
    const used = Number(h.get('x-mbx-used-weight-1m') ?? '0');
    return used > WEIGHT_LIMIT * 0.9 ? { quotes: out, pauseMs: 60_000 - (Date.now() % 60_000) } : { quotes: out };
  }
}
