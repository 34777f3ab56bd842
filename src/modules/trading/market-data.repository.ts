import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { TradeRow } from './trading.views';

export interface PairStatsRow {
  id: string;
  sequence: string;
  last_price: string | null;
  open_price: string | null;
  high: string | null;
  low: string | null;
  volume: string;
  quote_volume: string;
  trades: number;
}

export interface CandleRow {
  open_time: Date;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quote_volume: string;
  trades: number;
}

export interface TickerRow {
  id: string;
  last_price: string | null;
  last_at: Date | null;
  open_price: string | null;
}

/** The SQL of public market data (read-only; Postgres is the truth on every instance). */
@Injectable()
export class MarketDataRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Last price and 24 h statistics of every pair, or of one. */
  pairStats(only: string | null): Promise<PairStatsRow[]> {
    return this.ds.query(
      `SELECT p.id, p.sequence, l.price AS last_price, o.price AS open_price, s.high, s.low, s.volume, s.quote_volume, s.trades
       FROM trading_pairs p
       LEFT JOIN LATERAL (SELECT price FROM trading_trades t WHERE t.pair_id = p.id ORDER BY seq DESC LIMIT 1) l ON true
       LEFT JOIN LATERAL (SELECT price FROM trading_trades t WHERE t.pair_id = p.id AND t.executed_at >= now() - interval '24 hours'
                          ORDER BY seq ASC LIMIT 1) o ON true
       LEFT JOIN LATERAL (SELECT max(price) AS high, min(price) AS low, COALESCE(sum(quantity), 0) AS volume,
                                 COALESCE(sum(quote_amount), 0) AS quote_volume, count(*)::int AS trades
                          FROM trading_trades t WHERE t.pair_id = p.id AND t.executed_at >= now() - interval '24 hours') s ON true
       WHERE $1::text IS NULL OR p.id = $1
       ORDER BY p.id`,
      [only],
    );
  }

  /**
   * The book's best `depth` levels per side and the sequence they reflect, in one statement (one
   * snapshot). The row with `side` null carries the sequence.
   */
  bookLevels(pairId: string, depth: number): Promise<{ side: string | null; price: string | null; qty: string | null; seq: string }[]> {
    return this.ds.query(
      `SELECT NULL AS side, NULL AS price, NULL AS qty, (SELECT sequence FROM trading_pairs WHERE id = $1)::text AS seq
       UNION ALL
       SELECT side, price::text, qty::text, NULL FROM (
         SELECT side, price, sum(quantity - filled_quantity) AS qty,
                row_number() OVER (PARTITION BY side ORDER BY CASE WHEN side = 'buy' THEN -price ELSE price END) AS rn
         FROM trading_orders WHERE pair_id = $1 AND status IN ('open','partially_filled')
         GROUP BY side, price
       ) lv WHERE rn <= $2`,
      [pairId, depth],
    );
  }

  /** Trades of a pair, newest first, before trade sequence `before` when given. */
  recentTrades(pairId: string, limit: number, before: string | null): Promise<TradeRow[]> {
    return this.ds.query(
      `SELECT id, seq, pair_id, price, quantity, quote_amount, taker_side, executed_at FROM trading_trades
       WHERE pair_id = $1 ${before ? 'AND seq < $3' : ''} ORDER BY seq DESC LIMIT $2`,
      before ? [pairId, limit, before] : [pairId, limit],
    );
  }

  /** Candles of `seconds` in [start, end), newest first, at most `limit`. */
  candles(pairId: string, seconds: number, start: Date, end: Date, limit: number): Promise<CandleRow[]> {
    return this.ds.query(
      `SELECT date_bin(make_interval(secs => $2), executed_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS open_time,
              (array_agg(price ORDER BY seq))[1] AS open, max(price) AS high, min(price) AS low,
              (array_agg(price ORDER BY seq DESC))[1] AS close, sum(quantity) AS volume, sum(quote_amount) AS quote_volume,
              count(*)::int AS trades
       FROM trading_trades
       WHERE pair_id = $1 AND executed_at >= $3 AND executed_at < $4
       GROUP BY 1 ORDER BY 1 DESC LIMIT $5`,
      [pairId, seconds, start, end, limit],
    );
  }

  /** Last price (and when) and the first price of the last 24 h, of every pair. */
  tickers(): Promise<TickerRow[]> {
    return this.ds.query(
      `SELECT p.id, l.price AS last_price, l.executed_at AS last_at, o.price AS open_price
       FROM trading_pairs p
       LEFT JOIN LATERAL (SELECT price, executed_at FROM trading_trades t WHERE t.pair_id = p.id ORDER BY seq DESC LIMIT 1) l ON true
       LEFT JOIN LATERAL (SELECT price FROM trading_trades t WHERE t.pair_id = p.id AND t.executed_at >= now() - interval '24 hours'
                          ORDER BY seq ASC LIMIT 1) o ON true`,
    );
  }
}
