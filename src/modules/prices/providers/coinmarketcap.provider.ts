import { normalizeDecimal } from '../../ledger/money';
import { LosslessJson, isObject, numberText } from './provider-json';
import { PriceProvider, ProviderAnswer, ProviderError, SourceQuote, getJson } from './price-provider';

const SUPPORTED = new Set(['BTC', 'ETH', 'USDT']);

/**
 * CoinMarketCap "Quotes Latest": GET {base}/v1/cryptocurrency/quotes/latest?symbol=BTC,ETH&convert=USD
 * with the key in `X-CMC_PRO_API_KEY` (required). Answer:
 * {"status":{"error_code":0,...},"data":{"BTC":{"symbol":"BTC","quote":{"USD":{"price":67187.33,"percent_change_24h":3.6,"last_updated":"..."}}}}}
 * (v2 gives an array per symbol; both are read). Errors carry `status.error_code`/`error_message`;
 * 1008/1011 and HTTP 429 mean "over the rate limit". The Basic plan allows 30 calls a minute.
 */
export class CoinMarketCapProvider implements PriceProvider {
  readonly name = 'coinmarketcap';
  constructor(private readonly opts: { baseUrl: string; apiKey: string; timeoutMs: number; minIntervalMs: number }) {}

  get minIntervalMs() {
    return this.opts.minIntervalMs;
  }

  supports(symbol: string) {
    return SUPPORTED.has(symbol);
  }

  async fetchQuotes(symbols: string[]): Promise<ProviderAnswer> {
    const wanted = symbols.filter((s) => this.supports(s));
    if (!wanted.length) return { quotes: [] };
    const qs = new URLSearchParams({ symbol: wanted.join(','), convert: 'USD' });
    const res = await getJson(
      this.name,
      `${this.opts.baseUrl.replace(/\/+$/, '')}/v1/cryptocurrency/quotes/latest?${qs}`,
      { 'X-CMC_PRO_API_KEY': this.opts.apiKey },
      this.opts.timeoutMs,
    );
    const { body } = res;
    if (!isObject(body) || !isObject(body.status)) throw new ProviderError(this.name, 'unexpected answer shape');
    const code = Number(numberText(body.status.error_code) ?? '0');
    if (code !== 0) {
      const msg = typeof body.status.error_message === 'string' ? body.status.error_message : `error ${code}`;
      throw new ProviderError(this.name, msg, res.status, code === 1008 || code === 1011 ? 60_000 : null);
    }
    if (!isObject(body.data)) throw new ProviderError(this.name, 'answer has no data');
    const out: SourceQuote[] = [];
    for (const symbol of wanted) {
      let entry: LosslessJson | undefined = body.data[symbol];
      if (Array.isArray(entry)) entry = entry[0];
      if (!isObject(entry) || !isObject(entry.quote) || !isObject(entry.quote.USD)) continue;
      const usd = entry.quote.USD;
      const price = numberText(usd.price);
      if (price === null) continue;
      const change = numberText(usd.percent_change_24h);
      out.push({
        symbol,
        price: normalizeDecimal(price),
        change24h: change === null ? null : normalizeDecimal(change, 2, 2),
        updatedAt: typeof usd.last_updated === 'string' && !Number.isNaN(Date.parse(usd.last_updated)) ? new Date(usd.last_updated).toISOString() : new Date().toISOString(),
        source: this.name,
      });
    }
    return { quotes: out };
  }
}
