import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { RedisService } from '../../core/redis/redis.service';
import { badRequest } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { formatAmount } from '../ledger/money';
import { MarketDataRepository } from './market-data.repository';
import { PairsService } from './pairs.service';
import { PairSpec, formatPrice, percentChange } from './trading.math';
import { OrderBookView, TradeView, tradeView } from './trading.views';

export interface PairView {
  id: string;
  base: string;
  quote: string;
  status: string;
  tickSize: string;
  lotSize: string;
  minPrice: string;
  maxPrice: string;
  minQuantity: string;
  maxQuantity: string;
  minNotional: string;
  lastPrice: string | null;
  /** Percentage change over 24 h ("2.35" = +2.35 %); null without trades in the last 24 h. */
  change24h: string | null;
  priceChange24h: string | null;
  high24h: string | null;
  low24h: string | null;
  volume24h: string;
  quoteVolume24h: string;
  trades24h: number;
  sequence: number;
}

export interface KlineView {
  openTime: string;
  closeTime: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quoteVolume: string;
  trades: number;
}

export const KLINE_INTERVALS: Record<string, number> = {
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '4h': 14400,
  '1d': 86400,
};

const MAX_DEPTH = 500;

/** Public market data read from Postgres (the truth), the same on every instance. */
@Injectable()
export class MarketDataService {
  constructor(
    private readonly repo: MarketDataRepository,
    private readonly pairs: PairsService,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async listPairs(): Promise<PairView[]> {
    return this.pairStats(null);
  }

  async getPair(pairId: unknown): Promise<PairView> {
    const pair = await this.pairs.get(pairId);
    return (await this.pairStats(pair.id))[0];
  }

  private async pairStats(only: string | null): Promise<PairView[]> {
    const rows = await this.repo.pairStats(only);
    const out: PairView[] = [];
    for (const r of rows) {
      const pair = this.pairs.known(r.id);
      if (!pair) continue;
      const q = (v: string | null) => (v === null ? null : formatPrice(BigInt(v), pair));
      const last = r.last_price === null ? null : BigInt(r.last_price);
      const open = r.open_price === null ? null : BigInt(r.open_price);
      out.push({
        id: pair.id,
        base: pair.base,
        quote: pair.quote,
        status: pair.status,
        tickSize: formatPrice(pair.tickSize, pair),
        lotSize: formatAmount(pair.lotSize, pair.base),
        minPrice: formatPrice(pair.minPrice, pair),
        maxPrice: formatPrice(pair.maxPrice, pair),
        minQuantity: formatAmount(pair.lotSize, pair.base),
        maxQuantity: formatAmount(pair.maxQuantity, pair.base),
        minNotional: formatAmount(pair.minNotional, pair.quote),
        lastPrice: q(r.last_price),
        change24h: open !== null && last !== null ? percentChange(open, last) : null,
        priceChange24h: open !== null && last !== null ? formatPrice(last - open, pair) : null,
        high24h: q(r.high),
        low24h: q(r.low),
        volume24h: formatAmount(BigInt(r.volume), pair.base),
        quoteVolume24h: formatAmount(BigInt(r.quote_volume), pair.quote),
        trades24h: Number(r.trades),
        sequence: Number(r.sequence),
      });
    }
    return out;
  }

  /**
   * The book aggregated by price, best first, with the sequence it reflects: one statement, so
   * the levels and the sequence come from one snapshot. Apply `orderbook_update`s with a greater
   * sequence on top of it.
   */
  async orderBook(pairId: unknown, depthRaw?: unknown): Promise<OrderBookView> {
    const pair = await this.pairs.get(pairId);
    const depth = parseDepth(depthRaw);
    const rows = await this.repo.bookLevels(pair.id, depth);
    const seq = Number(rows.find((r) => r.side === null)!.seq);
    const bids: [bigint, bigint][] = [];
    const asks: [bigint, bigint][] = [];
    for (const r of rows) {
      if (r.side === null) continue;
      (r.side === 'buy' ? bids : asks).push([BigInt(r.price!), BigInt(r.qty!)]);
    }
    bids.sort((a, b) => (a[0] > b[0] ? -1 : 1));
    asks.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const fmt = ([p, q]: [bigint, bigint]): [string, string] => [formatPrice(p, pair), formatAmount(q, pair.base)];
    return { pairId: pair.id, sequence: seq, bids: bids.map(fmt), asks: asks.map(fmt) };
  }

  /** Recent trades, newest first, cursor paged. */
  async recentTrades(pairId: unknown, q: { limit?: unknown; cursor?: unknown }): Promise<Page<TradeView>> {
    const pair = await this.pairs.get(pairId);
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, (v): v is string => typeof v === 'string' && /^\d{1,19}$/.test(v));
    const rows = await this.repo.recentTrades(pair.id, limit + 1, cursor ?? null);
    return toPage(rows, limit, (r) => tradeView(r, pair), (r) => String(r.seq));
  }

  /**
   * Candles from the platform's trades (only intervals that had trades), oldest first: the
   * latest `limit` candles ending at `endTime` (default now). Bounded: at most KLINES_MAX_CANDLES
   * candles, and never a window wider than `limit` intervals (the default window ends now and
   * starts `limit` intervals before; an earlier `startTime` is moved up to that), so a public
   * request never scans all history. Answers are cached in Redis for KLINES_CACHE_TTL_MS.
   */
  async klines(pairId: unknown, q: { interval?: unknown; limit?: unknown; endTime?: unknown; startTime?: unknown }) {
    const pair = await this.pairs.get(pairId);
    const interval = q.interval === undefined || q.interval === '' ? '1m' : String(q.interval);
    const seconds = KLINE_INTERVALS[interval];
    if (!seconds) throw badRequest(`interval must be one of ${Object.keys(KLINE_INTERVALS).join(', ')}`);
    const limit = parseLimit(q.limit, 100, this.config.klines.maxCandles);
    const endGiven = parseTime(q.endTime, 'endTime');
    const startGiven = parseTime(q.startTime, 'startTime');
    const ttl = this.config.klines.cacheTtlMs;
    const cacheKey = this.redis.key('klines', pair.id, interval, limit, startGiven?.getTime() ?? '', endGiven?.getTime() ?? '');
    if (ttl > 0) {
      const hit = await this.redis.client.get(cacheKey).catch(() => null);
      if (hit) return JSON.parse(hit) as { pairId: string; interval: string; items: KlineView[] };
    }
    const end = endGiven ?? new Date();
    const earliest = new Date(end.getTime() - limit * seconds * 1000);
    const start = startGiven && startGiven > earliest ? startGiven : earliest;
    if (startGiven && startGiven >= end) throw badRequest('startTime must be before endTime');
    const rows = await this.repo.candles(pair.id, seconds, start, end, limit);
    const items: KlineView[] = rows.reverse().map((r) => {
      const open = new Date(r.open_time);
      return {
        openTime: open.toISOString(),
        closeTime: new Date(open.getTime() + seconds * 1000 - 1).toISOString(),
        open: formatPrice(BigInt(r.open), pair),
        high: formatPrice(BigInt(r.high), pair),
        low: formatPrice(BigInt(r.low), pair),
        close: formatPrice(BigInt(r.close), pair),
        volume: formatAmount(BigInt(r.volume), pair.base),
        quoteVolume: formatAmount(BigInt(r.quote_volume), pair.quote),
        trades: Number(r.trades),
      };
    });
    const out = { pairId: pair.id, interval, items };
    if (ttl > 0) await this.redis.client.set(cacheKey, JSON.stringify(out), 'PX', ttl).catch(() => undefined);
    return out;
  }

  /** Last price and 24 h statistics of every pair (for the internal price provider). */
  async tickers(): Promise<{ pair: PairSpec; last: bigint | null; open24h: bigint | null; at: Date | null }[]> {
    const rows = await this.repo.tickers();
    return rows
      .filter((r) => this.pairs.known(r.id))
      .map((r) => ({
        pair: this.pairs.known(r.id)!,
        last: r.last_price === null ? null : BigInt(r.last_price),
        open24h: r.open_price === null ? null : BigInt(r.open_price),
        at: r.last_at ? new Date(r.last_at) : null,
      }));
  }
}

function parseTime(raw: unknown, field: string): Date | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const s = String(raw);
  const d = /^\d{1,15}$/.test(s) ? new Date(Number(s)) : new Date(s);
  if (Number.isNaN(d.getTime())) throw badRequest(`${field} must be epoch milliseconds or an ISO 8601 time`);
  return d;
}

function parseDepth(raw: unknown): number {
  if (raw === undefined || raw === null || raw === '') return 50;
  const s = String(raw);
  const n = /^\d{1,4}$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= MAX_DEPTH)) throw badRequest(`depth must be an integer between 1 and ${MAX_DEPTH}`);
  return n;
}
