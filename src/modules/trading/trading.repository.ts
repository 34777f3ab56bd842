import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Tx } from '../../core/database/transaction';
import type { AssetSymbol } from '../ledger/assets';
import type { OrderSide, OrderStatus } from './trading.math';
import { OrderRow, OrderState } from './trading.views';

/** A fill as written to trading_trades (exact values; minor units). */
export interface TradeInsert {
  id: string;
  quantity: bigint;
  price: bigint;
  quote: bigint;
  makerOrderId: string;
  buyerId: string;
  sellerId: string;
  buyerFee: bigint;
  sellerFee: bigint;
}

/** A fill of one order as `orderTrades` reads it. */
export interface OrderTradeRow {
  id: string;
  pair_id: string;
  price: string;
  quantity: string;
  quote_amount: string;
  taker_order_id: string;
  buyer_id: string;
  buyer_fee: string;
  seller_fee: string;
  executed_at: Date;
}

/** A trading pair's definition (trading_pairs). */
export interface PairRow {
  id: string;
  base: AssetSymbol;
  quote: AssetSymbol;
  tick_size: string;
  lot_size: string;
  min_price: string;
  max_price: string;
  max_quantity: string;
  min_notional: string;
  status: 'trading' | 'halted';
}

/** An order as the book replica reads it. */
export interface BookRow {
  id: string;
  user_id: string;
  side: 'buy' | 'sell';
  price: string | null;
  quantity: string;
  filled_quantity: string;
  status: string;
  priority: string | null;
}

const BOOK_COLUMNS = `id, user_id, side, price, quantity, filled_quantity, status, priority`;

/** The SQL of orders, their fills and the pairs' book sequence (trading_orders, trading_trades, trading_pairs). */
@Injectable()
export class TradingRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  // ------------------------------------------------------------------ reads

  pairs(): Promise<PairRow[]> {
    return this.ds.query(`SELECT * FROM trading_pairs ORDER BY id`);
  }

  async findOrder(orderId: string): Promise<OrderRow | null> {
    if (!/^[0-9a-f-]{36}$/i.test(orderId)) return null;
    const rows: OrderRow[] = await this.ds.query(`SELECT * FROM trading_orders WHERE id = $1`, [orderId]);
    return rows[0] ?? null;
  }

  async findByClientId(userId: string, clientOrderId: string): Promise<OrderRow | null> {
    const rows: OrderRow[] = await this.ds.query(`SELECT * FROM trading_orders WHERE user_id = $1 AND client_order_id = $2`, [userId, clientOrderId]);
    return rows[0] ?? null;
  }

  /** A page of a user's orders, newest first; `limit` rows are asked for (the caller asks one more to see if there is a next page). */
  listOrders(
    userId: string,
    q: { statuses: OrderStatus[] | null; pairId: string | null; before: [Date, string] | null; limit: number },
  ): Promise<OrderRow[]> {
    const params: unknown[] = [userId, q.limit];
    const where = ['user_id = $1'];
    if (q.statuses) {
      params.push(q.statuses);
      where.push(`status = ANY($${params.length})`);
    }
    if (q.pairId) {
      params.push(q.pairId);
      where.push(`pair_id = $${params.length}`);
    }
    if (q.before) {
      params.push(q.before[0], q.before[1]);
      where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    return this.ds.query(`SELECT * FROM trading_orders WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $2`, params);
  }

  orderTrades(orderId: string): Promise<OrderTradeRow[]> {
    return this.ds.query(`SELECT * FROM trading_trades WHERE taker_order_id = $1 OR maker_order_id = $1 ORDER BY seq`, [orderId]);
  }

  /** Resting GTD orders (their expiry is scheduled again at start). */
  restingWithExpiry(): Promise<{ id: string; expires_at: Date }[]> {
    return this.ds.query(`SELECT id, expires_at FROM trading_orders WHERE status IN ('open','partially_filled') AND expires_at IS NOT NULL`);
  }

  // ------------------------------------------------------------------ in a pair's write

  /** The pair's row lock (one writer per pair across instances); returns its book sequence. */
  async lockPair(tx: Tx, pairId: string): Promise<number> {
    const [row] = await tx.query<{ sequence: string }>(`SELECT sequence FROM trading_pairs WHERE id = $1 FOR UPDATE`, [pairId]);
    return Number(row.sequence);
  }

  setSequence(tx: Tx, pairId: string, seq: number) {
    return tx.query(`UPDATE trading_pairs SET sequence = $2, updated_at = now() WHERE id = $1`, [pairId, seq]);
  }

  /** The pair's orders changed after book sequence `seq` (a replica's catch-up). */
  bookChangesSince(tx: Tx, pairId: string, seq: number): Promise<BookRow[]> {
    return tx.query(`SELECT ${BOOK_COLUMNS} FROM trading_orders WHERE pair_id = $1 AND book_seq > $2 ORDER BY priority NULLS LAST`, [pairId, seq]);
  }

  /** The pair's resting orders in time priority (a replica's full rebuild). */
  restingBook(tx: Tx, pairId: string): Promise<BookRow[]> {
    return tx.query(`SELECT ${BOOK_COLUMNS} FROM trading_orders WHERE pair_id = $1 AND status IN ('open','partially_filled') ORDER BY priority`, [pairId]);
  }

  async loadOrders(tx: Tx, ids: string[]): Promise<Map<string, OrderState>> {
    const rows: OrderRow[] = await tx.query(`SELECT * FROM trading_orders WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(rows.map((r) => [r.id, OrderState.fromRow(r)]));
  }

  /**
   * Everything a write stores about orders and fills — the new order, the changed orders, the
   * trades — in ONE statement (one round trip): each part is a data-modifying CTE of the same
   * statement. The parts touch different rows (the new order is never among the changed ones), and
   * the trades' foreign keys to the new order are checked at the end of the statement, when its row
   * exists.
   */
  async writeOrders(tx: Tx, w: { inserted: OrderState | null; changed: OrderState[]; seq: number; now: Date; trades?: { header: TradesHeader; rows: TradeInsert[] } }) {
    const q = new Params();
    const parts: string[] = [];
    if (w.inserted) parts.push(insertOrderSql(q, w.inserted, w.seq));
    if (w.changed.length) parts.push(updateOrdersSql(q, w.changed, w.seq, w.now));
    if (w.trades?.rows.length) parts.push(insertTradesSql(q, w.trades.header, w.trades.rows));
    if (!parts.length) return;
    const last = parts.pop()!;
    const sql = parts.length ? `WITH ${parts.map((p, i) => `w${i} AS (${p})`).join(', ')} ${last}` : last;
    await tx.query(sql, q.params);
  }
}

/** Header of one taker's fills (the same for every trade row). */
export interface TradesHeader {
  pairId: string;
  takerSide: OrderSide;
  takerOrderId: string;
  bookSeq: number;
  at: Date;
}

/** Positional parameters of a statement built from parts. */
class Params {
  readonly params: unknown[] = [];
  p(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
}

function insertOrderSql(q: Params, o: OrderState, seq: number): string {
  const at = q.p(o.createdAt);
  const v = [
    o.id, o.userId, o.pairId, o.side, o.type, o.tif, o.price?.toString() ?? null, o.quantity.toString(), o.filled.toString(),
    o.notional.toString(), o.quoteQuantity.toString(), o.fee.toString(), o.status, o.cancelReason, o.holdId, o.holdRev,
    o.priority, seq, o.clientOrderId, o.expiresAt,
  ].map((x) => q.p(x));
  return `INSERT INTO trading_orders (id, user_id, pair_id, side, type, time_in_force, price, quantity, filled_quantity, notional, quote_quantity, fee,
                                   status, cancel_reason, hold_id, hold_rev, priority, book_seq, client_order_id, expires_at, created_at, updated_at)
       VALUES (${v.join(', ')}, ${at}, ${at})`;
}

function updateOrdersSql(q: Params, changed: OrderState[], seq: number, now: Date): string {
  const col = <T>(f: (o: OrderState) => T) => q.p(changed.map(f));
  return `UPDATE trading_orders o SET price = v.price, quantity = v.quantity, filled_quantity = v.filled, notional = v.notional,
              quote_quantity = v.quote, fee = v.fee, status = v.status, cancel_reason = v.reason, hold_id = v.hold, hold_rev = v.rev,
              priority = v.priority, book_seq = ${q.p(seq)}, updated_at = ${q.p(now)}
       FROM unnest(${col((o) => o.id)}::uuid[], ${col((o) => o.price?.toString() ?? null)}::numeric[], ${col((o) => o.quantity.toString())}::numeric[],
                   ${col((o) => o.filled.toString())}::numeric[], ${col((o) => o.notional.toString())}::numeric[], ${col((o) => o.quoteQuantity.toString())}::numeric[],
                   ${col((o) => o.fee.toString())}::numeric[], ${col((o) => o.status)}::text[], ${col((o) => o.cancelReason)}::text[],
                   ${col((o) => o.holdId)}::uuid[], ${col((o) => o.holdRev)}::int[], ${col((o) => (o.resting ? o.priority : null))}::bigint[])
         AS v(id, price, quantity, filled, notional, quote, fee, status, reason, hold, rev, priority)
       WHERE o.id = v.id`;
}

function insertTradesSql(q: Params, t: TradesHeader, trades: TradeInsert[]): string {
  const col = (f: (r: TradeInsert) => string) => q.p(trades.map(f));
  return `INSERT INTO trading_trades (id, pair_id, quantity, price, quote_amount, taker_side, taker_order_id, maker_order_id, buyer_id, seller_id, buyer_fee, seller_fee, book_seq, executed_at)
       SELECT t.id, ${q.p(t.pairId)}, t.qty, t.price, t.quote, ${q.p(t.takerSide)}, ${q.p(t.takerOrderId)}, t.maker, t.buyer, t.seller, t.bfee, t.sfee, ${q.p(t.bookSeq)}, ${q.p(t.at)}
       FROM unnest(${col((r) => r.id)}::uuid[], ${col((r) => r.quantity.toString())}::numeric[], ${col((r) => r.price.toString())}::numeric[], ${col((r) => r.quote.toString())}::numeric[],
                   ${col((r) => r.makerOrderId)}::uuid[], ${col((r) => r.buyerId)}::uuid[], ${col((r) => r.sellerId)}::uuid[], ${col((r) => r.buyerFee.toString())}::numeric[],
                   ${col((r) => r.sellerFee.toString())}::numeric[])
         WITH ORDINALITY AS t(id, qty, price, quote, maker, buyer, seller, bfee, sfee, n)
       ORDER BY t.n`;
}
