import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { badRequest, notFound } from '../../core/http/domain-error';
import { Announcer } from '../../core/realtime/announce';
import { PriceUpdated, pricesRoom } from './prices.events';
import { RedisService } from '../../core/redis/redis.service';
import { ASSET_SYMBOLS, isAssetSymbol } from '../ledger/assets';
import { MarketDataService } from '../trading/market-data.service';
import { TradesFeed } from '../trading/trades.feed';
import { PriceView, aggregate } from './price-aggregate';
import { BinanceProvider } from './providers/binance.provider';
import { CoinGeckoProvider } from './providers/coingecko.provider';
import { CoinMarketCapProvider } from './providers/coinmarketcap.provider';
import { InternalProvider } from './providers/internal.provider';
import { PriceProvider, ProviderError, SourceQuote } from './providers/price-provider';

/** Assets priced in USD (USD itself is fixed at 1). */
export const PRICED_SYMBOLS = ASSET_SYMBOLS.filter((s) => s !== 'USD');

const MAX_BACKOFF_MS = 15 * 60_000;

export interface ProviderRunResult {
  provider: string;
  status: 'ok' | 'skipped' | 'error';
  quotes: number;
  reason?: string;
  retryInMs?: number;
}

interface BackoffState {
  failures: number;
  until: number;
  reason: string;
}

/**
 * Prices: each provider's latest quotes are kept in Redis (`prices:src:<provider>`), and the
 * price served for each asset (`prices:agg`) is aggregated from the fresh ones. A BullMQ job
 * scheduler refreshes every PRICE_REFRESH_SECONDS on whichever instance picks it up; trades
 * committed on an instance refresh the internal source at once (debounced). Backoff and rate
 * guards live in Redis too, so every instance respects them.
 */
@Injectable()
export class PricesService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Prices');
  readonly providers: PriceProvider[];
  private unsubscribe?: () => void;
  private debounce: NodeJS.Timeout | null = null;
  private internalRun: Promise<unknown> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisService,
    private readonly announcer: Announcer,
    market: MarketDataService,
    private readonly trading: TradesFeed,
  ) {
    const c = config.prices;
    const keys = config.priceFeeds;
    const timeoutMs = c.requestTimeoutMs;
    const minIntervalMs = c.minRequestIntervalMs;
    this.providers = c.providers.map((name): PriceProvider => {
      switch (name) {
        case 'coingecko':
          return new CoinGeckoProvider({ baseUrl: c.coingeckoBaseUrl, apiKey: keys.coingeckoApiKey, plan: c.coingeckoPlan, timeoutMs, minIntervalMs });
        case 'coinmarketcap':
          return new CoinMarketCapProvider({ baseUrl: c.coinmarketcapBaseUrl, apiKey: keys.coinmarketcapApiKey ?? '', timeoutMs, minIntervalMs });
        case 'binance':
          return new BinanceProvider({ baseUrl: c.binanceBaseUrl, apiKey: keys.binanceApiKey, timeoutMs, minIntervalMs });
        default:
          return new InternalProvider(market);
      }
    });
  }

  onModuleInit() {
    if (this.providers.some((p) => p.name === 'internal')) {
      this.unsubscribe = this.trading.onTrades(() => this.scheduleInternalRefresh());
    }
  }

  onModuleDestroy() {
    this.unsubscribe?.();
    if (this.debounce) clearTimeout(this.debounce);
  }

  // ------------------------------------------------------------------ reads

  async get(symbolRaw: string): Promise<PriceView> {
    const symbol = this.symbol(symbolRaw);
    if (symbol === 'USD') return this.usd();
    const raw = await this.redis.client.hget(this.key('agg'), symbol);
    if (!raw) throw notFound(`No price for ${symbol} yet`);
    return JSON.parse(raw) as PriceView;
  }

  async list(symbols?: string[]): Promise<PriceView[]> {
    const wanted = symbols?.length ? symbols.map((s) => this.symbol(s)) : [...PRICED_SYMBOLS, 'USD'];
    const raw = await this.redis.client.hgetall(this.key('agg'));
    return wanted.map((s) => (s === 'USD' ? this.usd() : raw[s] ? (JSON.parse(raw[s]) as PriceView) : null)).filter((p): p is PriceView => !!p);
  }

  /** A client symbol ("btc", "BTC") → the asset symbol, or 404. */
  symbol(raw: unknown): string {
    const s = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
    if (!isAssetSymbol(s)) throw notFound(`Unknown symbol ${typeof raw === 'string' ? raw.slice(0, 20) : ''}`);
    return s;
  }

  /** Validates a list of symbols for subscriptions (400 naming the unknown ones). */
  symbols(raw: unknown): string[] {
    if (!Array.isArray(raw) || !raw.length || raw.length > 20) throw badRequest('symbols must be a list of 1 to 20 asset symbols');
    const out = raw.map((s) => (typeof s === 'string' ? s.trim().toUpperCase() : ''));
    const bad = out.filter((s) => !isAssetSymbol(s));
    if (bad.length) throw badRequest(`symbols has unknown symbols: ${bad.map((b) => b || '""').join(', ')} (known: ${ASSET_SYMBOLS.join(', ')})`);
    return [...new Set(out)];
  }

  // ---------------------------------------------------------------- refresh

  /**
   * Asks every provider (or those named) for fresh quotes, then re-aggregates every symbol and
   * announces the prices that changed. Never throws for a provider's failure: that provider
   * backs off and its recent quotes keep counting until they are stale.
   */
  async refresh(only?: string[]): Promise<{ providers: ProviderRunResult[]; prices: PriceView[] }> {
    const chosen = this.providers.filter((p) => !only || only.includes(p.name));
    const results = await Promise.all(chosen.map((p) => this.runProvider(p)));
    const prices = await this.reaggregate();
    return { providers: results, prices };
  }

  private scheduleInternalRefresh() {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      // One internal refresh at a time on this instance; trades arriving meanwhile schedule the next.
      const run = (this.internalRun ?? Promise.resolve())
        .then(() => this.refresh(['internal']))
        .catch((e) => this.logger.warn(`internal price refresh failed: ${(e as Error).message}`));
      this.internalRun = run;
    }, 150);
  }

  private async runProvider(p: PriceProvider): Promise<ProviderRunResult> {
    const now = Date.now();
    const backoff = await this.readBackoff(p.name);
    if (backoff && backoff.until > now) {
      return { provider: p.name, status: 'skipped', quotes: 0, reason: `backing off after: ${backoff.reason}`, retryInMs: backoff.until - now };
    }
    if (p.minIntervalMs > 0) {
      // One call per interval across all instances: whoever sets the key makes the call.
      const ok = await this.redis.client.set(this.key('rl', p.name), String(now), 'PX', p.minIntervalMs, 'NX');
      if (ok !== 'OK') {
        const ttl = await this.redis.client.pttl(this.key('rl', p.name));
        return { provider: p.name, status: 'skipped', quotes: 0, reason: 'rate limit interval', retryInMs: Math.max(0, ttl) };
      }
    }
    try {
      const answer = await p.fetchQuotes(PRICED_SYMBOLS);
      await this.storeQuotes(p.name, answer.quotes);
      if (answer.pauseMs) await this.writeBackoff(p.name, { failures: 0, until: Date.now() + answer.pauseMs, reason: 'near the rate limit' });
      else if (backoff) await this.redis.client.del(this.key('backoff', p.name));
      return { provider: p.name, status: 'ok', quotes: answer.quotes.length };
    } catch (e) {
      const err = e as Error;
      const failures = (backoff?.failures ?? 0) + 1;
      const exp = Math.min(MAX_BACKOFF_MS, this.config.prices.refreshSeconds * 1000 * 2 ** (failures - 1));
      const wait = e instanceof ProviderError && e.retryAfterMs !== null ? Math.max(e.retryAfterMs, exp) : exp;
      await this.writeBackoff(p.name, { failures, until: Date.now() + wait, reason: err.message });
      this.logger.warn(`${p.name} failed (${failures} in a row), next try in ${Math.round(wait / 1000)} s: ${err.message}`);
      return { provider: p.name, status: 'error', quotes: 0, reason: err.message, retryInMs: wait };
    }
  }

  private async storeQuotes(provider: string, quotes: SourceQuote[]) {
    const key = this.key('src', provider);
    const fetchedAt = Date.now();
    const multi = this.redis.client.multi().del(key);
    if (quotes.length) multi.hset(key, Object.fromEntries(quotes.map((q) => [q.symbol, JSON.stringify({ ...q, fetchedAt })])));
    await multi.exec();
  }

  private async reaggregate(): Promise<PriceView[]> {
    const staleMs = Math.max(3 * this.config.prices.refreshSeconds * 1000, 60_000);
    const now = Date.now();
    const bySource = await Promise.all(this.providers.map((p) => this.redis.client.hgetall(this.key('src', p.name))));
    const previous = await this.redis.client.hgetall(this.key('agg'));
    const out: PriceView[] = [];
    const writes: Record<string, string> = {};
    const removed: string[] = [];
    for (const symbol of PRICED_SYMBOLS) {
      const quotes: SourceQuote[] = [];
      bySource.forEach((h) => {
        if (!h[symbol]) return;
        const q = JSON.parse(h[symbol]) as SourceQuote & { fetchedAt: number };
        // The internal source is read from the database on every refresh: never stale.
        if (q.source !== 'internal' && now - q.fetchedAt > staleMs) return;
        quotes.push({ symbol: q.symbol, price: q.price, change24h: q.change24h, updatedAt: q.updatedAt, source: q.source });
      });
      const view = aggregate(symbol, quotes, this.config.prices.disagreementBps);
      if (!view) {
        if (previous[symbol]) removed.push(symbol);
        continue;
      }
      const prev = previous[symbol] ? (JSON.parse(previous[symbol]) as PriceView) : null;
      if (view.disagreement && !prev?.disagreement) {
        this.logger.warn({ symbol, sources: view.sources, spreadBps: view.spreadBps }, `Price sources disagree on ${symbol}: serving the median`);
      }
      writes[symbol] = JSON.stringify(view);
      out.push(view);
      if (!prev || prev.price !== view.price || prev.change24h !== view.change24h || prev.source !== view.source) this.announce(view);
    }
    const multi = this.redis.client.multi();
    if (Object.keys(writes).length) multi.hset(this.key('agg'), writes);
    if (removed.length) multi.hdel(this.key('agg'), ...removed);
    await multi.exec();
    return out;
  }

  private announce(p: PriceView) {
    void this.announcer.announce(PriceUpdated, p, { room: pricesRoom(p.symbol) });
  }

  private usd(): PriceView {
    return {
      symbol: 'USD',
      price: '1.00',
      currency: 'USD',
      change24h: '0.00',
      source: 'fixed',
      updatedAt: new Date(0).toISOString(),
      sources: [],
      disagreement: false,
      spreadBps: 0,
    };
  }

  private async readBackoff(provider: string): Promise<BackoffState | null> {
    const raw = await this.redis.client.get(this.key('backoff', provider));
    return raw ? (JSON.parse(raw) as BackoffState) : null;
  }

  private async writeBackoff(provider: string, s: BackoffState) {
    // Kept a while past `until` so the failure count survives until the next attempt.
    await this.redis.client.set(this.key('backoff', provider), JSON.stringify(s), 'PX', Math.max(1000, s.until - Date.now()) + MAX_BACKOFF_MS);
  }

  private key(...parts: string[]) {
    return this.redis.key('prices', ...parts);
  }
}
