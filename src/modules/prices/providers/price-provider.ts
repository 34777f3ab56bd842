import { LosslessJson, isObject, parseLosslessJson } from './provider-json';

/** One provider's quote of one asset, in USD. Decimal strings only. */
export interface SourceQuote {
  symbol: string;
  price: string;
  /** 24 h change in percent ("2.35"), when the provider gives one. */
  change24h: string | null;
  /** When the provider says the price was last updated. */
  updatedAt: string;
  source: string;
}

/**
 * A price feed. Adapters send the provider's documented request, with its API key header when
 * configured, honour its rate limits (Retry-After on 429/418, a minimum interval between calls)
 * and turn the answer into exact decimal quotes. They throw ProviderError on any failure.
 */
export interface PriceProvider {
  readonly name: string;
  /** Minimum milliseconds between two calls across all instances (the provider's rate limit). */
  readonly minIntervalMs: number;
  /** Symbols this provider can price. */
  supports(symbol: string): boolean;
  fetchQuotes(symbols: string[]): Promise<ProviderAnswer>;
}

export interface ProviderAnswer {
  quotes: SourceQuote[];
  /** The provider is near its rate limit: wait this long before the next call. */
  pauseMs?: number;
}

export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    message: string,
    /** HTTP status, when there was a response. */
    readonly status: number | null = null,
    /** The provider asked us to wait this long (Retry-After, a ban, a rate-limit error code). */
    readonly retryAfterMs: number | null = null,
  ) {
    super(`${provider}: ${message}`);
    this.name = 'ProviderError';
  }
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: LosslessJson;
}

/** Retry-After: delta-seconds or an HTTP date → milliseconds (null when absent or unreadable). */
export function retryAfterMs(h: Headers, now = Date.now()): number | null {
  const v = h.get('retry-after');
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** GET a JSON document with a timeout; non-2xx answers become ProviderErrors (with Retry-After). */
export async function getJson(provider: string, url: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpResult> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'GET', headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (e) {
    const err = e as Error;
    const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError';
    throw new ProviderError(provider, timedOut ? `no answer within ${timeoutMs} ms` : `request failed (${err.message})`);
  }
  const text = await res.text().catch(() => '');
  if (text.length > 2_000_000) throw new ProviderError(provider, 'answer too large', res.status);
  let body: LosslessJson = null;
  try {
    body = text ? parseLosslessJson(text) : null;
  } catch {
    if (res.ok) throw new ProviderError(provider, 'answer is not JSON', res.status);
  }
  if (!res.ok) {
    const wait = retryAfterMs(res.headers);
    const status = res.status;
    const detail = errorMessageOf(body);
    const reason = (status === 429 ? 'rate limited' : status === 418 ? 'IP banned for exceeding rate limits' : `HTTP ${status}`) + (detail ? `: ${detail}` : '');
    throw new ProviderError(provider, reason, status, wait ?? (status === 429 || status === 418 ? 60_000 : null));
  }
  return { status: res.status, headers: res.headers, body };
}

/** The error text providers put in their bodies: CoinMarketCap/CoinGecko `status.error_message`, Binance `msg`, `error`. */
function errorMessageOf(body: LosslessJson): string | null {
  if (!isObject(body)) return null;
  const candidates = [isObject(body.status) ? body.status.error_message : undefined, body.msg, body.error];
  const found = candidates.find((c) => typeof c === 'string' && c.length > 0) as string | undefined;
  return found ? found.slice(0, 200) : null;
}
