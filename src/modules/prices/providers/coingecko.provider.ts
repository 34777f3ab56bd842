import { normalizeDecimal } from '../../ledger/money';
import { isObject, numberText } from './provider-json';
import { PriceProvider, ProviderAnswer, ProviderError, SourceQuote, getJson } from './price-provider';

const IDS: Record<string, string> = { BTC: 'bitcoin', ETH: 'ethereum', USDT: 'tether' };

/**
 * CoinGecko "Simple Price": GET {base}/simple/price?ids=bitcoin,ethereum&vs_currencies=usd
 * &include_24hr_change=true&include_last_updated_at=true&precision=full, with the API key in
 * `x-cg-demo-api-key` (Demo plan, api.coingecko.com) or `x-cg-pro-api-key` (Pro plan,
 * pro-api.coingecko.com). Answer: {"bitcoin":{"usd":67187.33,"usd_24h_change":3.64,"last_updated_at":1711356300}}.
 * The Demo plan allows 30 calls a minute: at most one call every 2 s.
 */
export class CoinGeckoProvider implements PriceProvider {
  readonly name = 'coingecko';
  constructor(
    private readonly opts: { baseUrl: string; apiKey: string | null; plan: 'demo' | 'pro'; timeoutMs: number; minIntervalMs: number },
  ) {}

  get minIntervalMs() {
    return this.opts.minIntervalMs;
  }

  supports(symbol: string) {
    return symbol in IDS;
  }

  async fetchQuotes(symbols: string[]): Promise<ProviderAnswer> {
    const wanted = symbols.filter((s) => this.supports(s));
    if (!wanted.length) return { quotes: [] };
    const qs = new URLSearchParams({
      ids: wanted.map((s) => IDS[s]).join(','),
      vs_currencies: 'usd',
      include_24hr_change: 'true',
      include_last_updated_at: 'true',
      precision: 'full',
    });
    const headers: Record<string, string> = {};
    if (this.opts.apiKey) headers[this.opts.plan === 'pro' ? 'x-cg-pro-api-key' : 'x-cg-demo-api-key'] = this.opts.apiKey;
    const { body } = await getJson(this.name, `${this.opts.baseUrl.replace(/\/+$/, '')}/simple/price?${qs}`, headers, this.opts.timeoutMs);
    if (!isObject(body)) throw new ProviderError(this.name, 'unexpected answer shape');
    const out: SourceQuote[] = [];
    for (const symbol of wanted) {
      const entry = body[IDS[symbol]];
      if (!isObject(entry)) continue;
      const price = numberText(entry.usd);
      if (price === null) continue;
      const change = numberText(entry.usd_24h_change);
      const updated = numberText(entry.last_updated_at);
      out.push({
        symbol,
        price: normalizeDecimal(price),
        change24h: change === null ? null : normalizeDecimal(change, 2, 2),
        updatedAt: updated ? new Date(Number(updated) * 1000).toISOString() : new Date().toISOString(),
        source: this.name,
      });
    }
    return { quotes: out };
  }
}
