import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { Tx, pgCode, withTransaction } from '../../core/database/transaction';
import { badRequest, conflict, DomainError, notFound, unprocessable } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { keyToken } from '../../core/http/idempotency';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { InsufficientFundsError, LedgerService } from '../ledger/ledger.service';
import { accountKey } from '../ledger/ledger.types';
import { formatAmount } from '../ledger/money';
import { BookCacheService } from './book-cache.service';
import { MatchResult, OrderBook, Side } from './engine/matching-engine';
import { PairsService } from './pairs.service';
import {
  ORDER_STATUSES,
  OrderSide,
  OrderTif,
  OrderType,
  PairSpec,
  TradingInputError,
  checkMinNotional,
  formatPrice,
  fromLots,
  fromTicks,
  limitHold,
  parsePrice,
  parseQuantity,
  quoteAmount,
  toLots,
  toTicks,
  tradingFee,
} from './trading.math';
import { TradingBatch, TradingPublisher } from './trading.publisher';
import { OrderRow, OrderState, OrderView, TradeView } from './trading.views';

export interface PlaceOrderInput {
  pairId: string;
  side: string;
  type: string;
  timeInForce?: string;
  price?: string;
  quantity: string;
  clientOrderId?: string;
  expiresAt?: string;
}

export interface ReplaceOrderInput {
  price?: string;
  quantity?: string;
}

/** One committed write of a pair: the transaction, the checked-out book, and what to announce. */
class WriteCtx {
  /** The replica was changed (a rollback must rebuild it). */
  mutated = false;
  /** Something was written in the transaction for this write (set before the first write). */
  wrote = false;
  /** The book changed: the pair's sequence moves to `newSeq`. */
  bookChanged = false;
  readonly orders = new Map<string, OrderState>();
  readonly trades: TradeView[] = [];
  /** Levels touched: `${side}:${ticks}`. */
  readonly levels = new Set<string>();
  readonly afterCommit: (() => void)[] = [];
  constructor(
    readonly tx: Tx,
    readonly pair: PairSpec,
    readonly book: OrderBook,
    readonly seq: number,
    /** May wait for account locks: only the first write of a transaction (see lockAccounts). */
    readonly mayWait = true,
  ) {}
  get newSeq(): number {
    return this.seq + 1;
  }
  touch(side: Side, ticks: number) {
    this.levels.add(`${side}:${ticks}`);
  }
}

/** A later write of a group-commit batch needs an account another transaction holds: end the batch before it. */
class WouldBlock extends Error {}

const MAX_ATTEMPTS = 4;
/** Most placements one group-commit transaction takes. */
const MAX_BATCH = 32;

interface Queued {
  work: (ctx: WriteCtx) => Promise<OrderView>;
  resolve: (v: OrderView) => void;
  reject: (e: unknown) => void;
}
const MAX_GTD_MS = 90 * 86_400_000;

/**
 * Orders: placement, matching, settlement, cancel, replace and expiry.
 *
 * One writer per pair, across instances: every write of a pair runs in one Postgres transaction
 * that starts by locking the pair's row (`SELECT ... FROM trading_pairs WHERE id = $1 FOR UPDATE`),
 * and everything the write does — the hold, matching, every fill's ledger postings, the order and
 * trade rows and the new book sequence — commits or rolls back with it. Why this and not a queue
 * per pair or a leased owner:
 * - the lock lives exactly as long as the transaction: a crashed instance's connection dies and
 *   Postgres releases the lock and rolls back its half-done work, with no lease to expire and no
 *   owner to fail over;
 * - it makes matching and settlement atomic (a trade row never exists without its money
 *   movements, and vice versa) and lets the HTTP request answer with the final order state;
 * - the client's request waits only for its own transaction (a queue adds a Redis hop and a
 *   worker hand-off to every order's latency);
 * - pairs lock independently, so different pairs match in parallel.
 * The cost is that one pair's throughput is bounded by one transaction at a time; inside an
 * instance, writers of a pair queue in memory (BookCacheService.exclusive) so they do not each
 * hold a pooled connection while waiting for the row lock. Deadlocks between pairs that settle
 * the same accounts are possible in principle (Postgres detects them); such a write is retried.
 */
@Injectable()
export class TradingService {
  private readonly logger = new Logger('Trading');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly ledger: LedgerService,
    private readonly pairs: PairsService,
    private readonly cache: BookCacheService,
    private readonly publisher: TradingPublisher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // ------------------------------------------------------------------ reads

  async getOrder(user: AuthUser, orderId: string): Promise<OrderView> {
    const row = await this.findVisible(user, orderId);
    return OrderState.fromRow(row).view(this.pairOf(row.pair_id));
  }

  async listOrders(userId: string, q: { status?: unknown; pairId?: unknown; limit?: unknown; cursor?: unknown }): Promise<Page<OrderView>> {
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, (v): v is [string, string] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string'));
    const params: unknown[] = [userId, limit + 1];
    const where = ['user_id = $1'];
    if (q.status !== undefined && q.status !== '') {
      const statuses = String(q.status).split(',');
      if (!statuses.every((s) => (ORDER_STATUSES as readonly string[]).includes(s))) {
        throw badRequest(`status must be one of ${ORDER_STATUSES.join(', ')} (comma separated)`);
      }
      params.push(statuses);
      where.push(`status = ANY($${params.length})`);
    }
    if (q.pairId !== undefined && q.pairId !== '') {
      params.push((await this.pairs.get(q.pairId)).id);
      where.push(`pair_id = $${params.length}`);
    }
    if (cursor) {
      const at = new Date(cursor[0]);
      if (Number.isNaN(at.getTime())) throw badRequest('cursor is invalid');
      params.push(at, cursor[1]);
      where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    const rows: OrderRow[] = await this.ds.query(
      `SELECT * FROM trading_orders WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $2`,
      params,
    );
    return toPage(
      rows,
      limit,
      (r) => OrderState.fromRow(r).view(this.pairOf(r.pair_id)),
      (r) => [new Date(r.created_at).toISOString(), r.id],
    );
  }

  /** The fills of one order (its owner or an admin), oldest first. */
  async orderTrades(user: AuthUser, orderId: string) {
    const row = await this.findVisible(user, orderId);
    const pair = this.pairOf(row.pair_id);
    const rows = await this.ds.query(
      `SELECT * FROM trading_trades WHERE taker_order_id = $1 OR maker_order_id = $1 ORDER BY seq`,
      [orderId],
    );
    return rows.map((t: any) => {
      const buyer = t.buyer_id === row.user_id && row.side === 'buy';
      return {
        id: t.id,
        pairId: t.pair_id,
        price: formatPrice(BigInt(t.price), pair),
        quantity: formatAmount(BigInt(t.quantity), pair.base),
        quoteAmount: formatAmount(BigInt(t.quote_amount), pair.quote),
        side: row.side,
        liquidity: t.taker_order_id === orderId ? 'taker' : 'maker',
        fee: formatAmount(BigInt(buyer ? t.buyer_fee : t.seller_fee), buyer ? pair.base : pair.quote),
        feeAsset: buyer ? pair.base : pair.quote,
        at: new Date(t.executed_at).toISOString(),
      };
    });
  }

  // ------------------------------------------------------------------ writes

  async place(user: AuthUser, input: PlaceOrderInput, idempotencyKey?: string): Promise<OrderView> {
    const pair = await this.pairs.get(input.pairId);
    if (pair.status !== 'trading') throw unprocessable(`Trading on ${pair.id} is halted`);
    const v = this.validatePlacement(input, pair);
    const clientOrderId = input.clientOrderId ?? (idempotencyKey ? `idem:${keyToken(idempotencyKey)}` : null);
    if (clientOrderId) {
      const replay = await this.replayByClientId(user.id, clientOrderId, pair, v);
      if (replay) return replay;
    }
    const orderId = randomUUID();
    try {
      return await this.enqueuePlacement(pair, async (ctx) => {
        const { book } = ctx;
        const lots = toLots(v.quantity, pair);
        const ticks = v.price === null ? undefined : toTicks(v.price, pair);
        const engineTif = v.tif === 'GTD' ? 'GTC' : v.tif;

        const o = new OrderState();
        Object.assign(o, {
          id: orderId,
          userId: user.id,
          pairId: pair.id,
          side: v.side,
          type: v.type,
          tif: v.tif,
          price: v.price,
          quantity: v.quantity,
          clientOrderId,
          expiresAt: v.expiresAt,
          createdAt: new Date(),
          updatedAt: new Date(),
          isNew: true,
        });

        // Hold first (422 leaves nothing behind). An order that may rest holds for its full size;
        // one that cannot rest (market, IOC, FOK) holds exactly what the book lets it trade now,
        // computed under the pair lock: nothing when it will trade nothing.
        const canRest = v.type === 'limit' && engineTif === 'GTC';
        const makers = new Set<string>();
        const pv = book.preview(v.side, lots, user.id, ticks ?? null, makers);
        let hold: { asset: PairSpec['base']; amount: bigint };
        if (canRest) {
          hold = limitHold(v.side, v.price!, v.quantity, pair);
        } else {
          const fillable = engineTif === 'FOK' && pv.filled < lots ? 0 : pv.filled;
          hold =
            v.side === 'sell'
              ? { asset: pair.base, amount: fromLots(fillable, pair) }
              : {
                  asset: pair.quote,
                  amount: fillable === 0 ? 0n : pv.segments.reduce((s, seg) => s + quoteAmount(fromTicks(seg.price, pair), fromLots(seg.qty, pair), pair), 0n),
                };
        }
        const available = await this.lockAccounts(ctx, [user.id, ...makers]);
        if (hold.amount > 0n) {
          if ((available.get(`${user.id}:${hold.asset}`) ?? 0n) < hold.amount) throw new InsufficientFundsError(hold.asset, hold.amount);
          ctx.wrote = true;
          const h = await this.ledger.hold(
            { key: `order:${orderId}:hold:0`, kind: 'order_hold', account: { userId: user.id }, asset: hold.asset, amount: hold.amount, reference: `order:${orderId}` },
            ctx.tx,
          );
          o.holdId = h.id;
        }

        ctx.mutated = true;
        const res = book.process({ id: orderId, owner: user.id, side: v.side, kind: v.type, tif: engineTif, price: ticks, qty: lots, priority: ctx.newSeq });
        await this.settle(ctx, o, res);
        if (o.tif === 'GTD' && o.resting) ctx.afterCommit.push(() => this.onGtdRested?.(o.id, o.expiresAt!));
        return o.view(pair);
      });
    } catch (e) {
      // Two requests with one clientOrderId raced: the loser answers like a replay.
      if (clientOrderId && pgCode(e) === '23505') {
        const replay = await this.replayByClientId(user.id, clientOrderId, pair, v);
        if (replay) return replay;
      }
      throw e;
    }
  }

  /** Cancels a resting order (its owner, an admin, or the expiry job). */
  async cancel(user: AuthUser | null, orderId: string, reason: 'user' | 'expired' = 'user'): Promise<OrderView> {
    const row = user ? await this.findVisible(user, orderId) : await this.findRow(orderId);
    if (!row) throw notFound('Order not found');
    const pair = this.pairOf(row.pair_id);
    return this.write(pair, async (ctx) => {
      const o = (await this.loadOrders(ctx.tx, [orderId])).get(orderId)!;
      if (!o.resting) throw conflict(`Order is already ${o.status}`, { status: o.status });
      if (reason === 'expired' && (!o.expiresAt || o.expiresAt.getTime() > Date.now())) {
        throw new DomainError('CONFLICT', 'Order has not expired yet', { notYetDue: true, expiresAt: o.expiresAt?.toISOString() ?? null });
      }
      ctx.mutated = true;
      const resting = ctx.book.cancel(o.id);
      if (resting) ctx.touch(o.side, resting.price);
      if (o.holdId) await this.ledger.voidHold(o.holdId, ctx.tx);
      o.status = 'cancelled';
      o.cancelReason = reason;
      ctx.bookChanged = true;
      ctx.orders.set(o.id, o);
      await this.persist(ctx);
      return o.view(pair);
    });
  }

  /**
   * Cancel-replace in place: a new price and/or total quantity. The order loses its time
   * priority, is matched at once if it now crosses, and its hold is replaced by one for the new
   * remaining size (422 and nothing changes when that is not covered).
   */
  async replace(user: AuthUser, orderId: string, input: ReplaceOrderInput): Promise<OrderView> {
    const row = await this.findVisible(user, orderId);
    const pair = this.pairOf(row.pair_id);
    if (input.price === undefined && input.quantity === undefined) throw badRequest('price or quantity (or status: "cancelled") is required');
    if (row.type !== 'limit') throw conflict('Only resting limit orders can be replaced');
    const newPrice = input.price !== undefined ? this.field(() => parsePrice(input.price, pair)) : null;
    const newQty = input.quantity !== undefined ? this.field(() => parseQuantity(input.quantity, pair)) : null;
    if (pair.status !== 'trading') throw unprocessable(`Trading on ${pair.id} is halted`);
    return this.write(pair, async (ctx) => {
      const o = (await this.loadOrders(ctx.tx, [orderId])).get(orderId)!;
      if (!o.resting) throw conflict(`Order is already ${o.status}`, { status: o.status });
      const price = newPrice ?? o.price!;
      const quantity = newQty ?? o.quantity;
      if (quantity <= o.filled) {
        throw badRequest(`quantity must be greater than the filled quantity ${formatAmount(o.filled, pair.base)}`);
      }
      this.field(() => checkMinNotional(price, quantity, pair));
      if (price === o.price && quantity === o.quantity) return o.view(pair);
      const remaining = quantity - o.filled;
      const need = limitHold(o.side, price, remaining, pair);
      const makers = new Set<string>();
      ctx.book.preview(o.side, toLots(remaining, pair), o.userId, toTicks(price, pair), makers);
      const available = await this.lockAccounts(ctx, [o.userId, ...makers]);
      const released = o.holdId ? (await this.ledger.getHold(o.holdId, ctx.tx)).remaining : 0n;
      if ((available.get(`${o.userId}:${need.asset}`) ?? 0n) + released < need.amount) throw new InsufficientFundsError(need.asset, need.amount);

      // A new hold for the new remaining size replaces the old one.
      if (o.holdId) await this.ledger.voidHold(o.holdId, ctx.tx);
      o.holdRev += 1;
      const h = await this.ledger.hold(
        { key: `order:${o.id}:hold:${o.holdRev}`, kind: 'order_hold', account: { userId: o.userId }, asset: need.asset, amount: need.amount, reference: `order:${o.id}` },
        ctx.tx,
      );
      o.holdId = h.id;

      ctx.mutated = true;
      const old = ctx.book.cancel(o.id);
      if (old) ctx.touch(o.side, old.price);
      o.price = price;
      o.quantity = quantity;
      o.status = o.filled > 0n ? 'partially_filled' : 'open';
      const res = ctx.book.process({
        id: o.id,
        owner: o.userId,
        side: o.side,
        kind: 'limit',
        tif: 'GTC',
        price: toTicks(price, pair),
        qty: toLots(remaining, pair),
        priority: ctx.newSeq,
      });
      ctx.bookChanged = true;
      await this.settle(ctx, o, res);
      return o.view(pair);
    });
  }

  /** Set by the jobs provider: schedules the expiry of a GTD order that rests. */
  onGtdRested?: (orderId: string, expiresAt: Date) => void;

  // ------------------------------------------------------------- internals

  /**
   * Locks every ledger account this write may touch — the taker's and the makers' accounts in
   * both assets of the pair, and the fee accounts — in ONE statement, in id order (the order
   * ledger_post itself locks in). Writers of different pairs that settle the same users then
   * queue instead of deadlocking, and the taker's available balance read here stays exact for
   * the whole write. Only a row lock: balances change through LedgerService alone.
   */
  private async lockAccounts(ctx: WriteCtx, userIds: string[]): Promise<Map<string, bigint>> {
    const { pair } = ctx;
    const feeKeys = this.config.fees.tradingBps > 0 ? [accountKey({ system: 'fees' }, pair.base), accountKey({ system: 'fees' }, pair.quote)] : [];
    const params = [[...new Set(userIds)], [pair.base, pair.quote], feeKeys];
    const where = `(user_id = ANY($1::uuid[]) AND asset = ANY($2::text[])) OR account_key = ANY($3::text[])`;
    type Row = { user_id: string | null; asset: string | null; available: string | null; wanted: number | null };
    let rows: Row[];
    if (ctx.mayWait) {
      rows = await ctx.tx.query(`SELECT user_id, asset, (posted - held)::text AS available FROM ledger_accounts WHERE ${where} ORDER BY id FOR UPDATE`, params);
    } else {
      // A later write of a batch already holds account locks: waiting now could close a cycle
      // with another pair's batch. It takes only what is free; if anything is busy, the batch
      // commits without it and it starts the next transaction (where it may wait).
      rows = await ctx.tx.query(
        `WITH w AS (SELECT id FROM ledger_accounts WHERE ${where}),
              g AS (SELECT a.user_id, a.asset, (a.posted - a.held)::text AS available FROM ledger_accounts a
                    WHERE a.id IN (SELECT id FROM w) ORDER BY a.id FOR UPDATE SKIP LOCKED)
         SELECT NULL::uuid AS user_id, NULL::text AS asset, NULL::text AS available, (SELECT count(*) FROM w)::int AS wanted
         UNION ALL SELECT user_id, asset, available, NULL FROM g`,
        params,
      );
      const wanted = rows.find((r) => r.wanted !== null)!.wanted!;
      rows = rows.filter((r) => r.wanted === null);
      if (rows.length < wanted) throw new WouldBlock();
    }
    return new Map(rows.filter((r) => r.user_id).map((r) => [`${r.user_id}:${r.asset}`, BigInt(r.available!)]));
  }

  /**
   * Settles the fills of `taker` against the makers (ledger postings in this transaction), sets
   * the final states and writes everything. Maker price; keys derived from each trade's id.
   */
  private async settle(ctx: WriteCtx, taker: OrderState, res: MatchResult) {
    const { pair, tx } = ctx;
    const makers = res.fills.length ? await this.loadOrders(tx, [...new Set(res.fills.map((f) => f.makerId))]) : new Map<string, OrderState>();
    const takerDone = !res.rested;
    const bps = this.config.fees.tradingBps;
    const now = new Date();
    const tradeRows: unknown[][] = [];

    for (let i = 0; i < res.fills.length; i++) {
      const f = res.fills[i];
      const maker = makers.get(f.makerId);
      if (!maker) throw new Error(`maker order ${f.makerId} is in the book but not in the database`);
      const qty = fromLots(f.qty, pair);
      const price = fromTicks(f.price, pair);
      const quote = quoteAmount(price, qty, pair);
      const takerFinal = takerDone && i === res.fills.length - 1;
      const makerFinal = f.makerRemaining === 0;
      const [buyer, seller, buyerFinal, sellerFinal] =
        taker.side === 'buy' ? [taker, maker, takerFinal, makerFinal] : [maker, taker, makerFinal, takerFinal];
      const tradeId = randomUUID();
      const meta = { pairId: pair.id, price: formatPrice(price, pair), quantity: formatAmount(qty, pair.base) };
      await this.ledger.postHold(
        { key: `trade:${tradeId}:base`, holdId: seller.holdId!, amount: qty, to: { userId: buyer.userId }, kind: 'trade', final: sellerFinal, reference: tradeId, metadata: { ...meta, orderId: seller.id, side: 'sell' } },
        tx,
      );
      await this.ledger.postHold(
        { key: `trade:${tradeId}:quote`, holdId: buyer.holdId!, amount: quote, to: { userId: seller.userId }, kind: 'trade', final: buyerFinal, reference: tradeId, metadata: { ...meta, orderId: buyer.id, side: 'buy' } },
        tx,
      );
      const buyerFee = tradingFee(qty, bps);
      const sellerFee = tradingFee(quote, bps);
      if (buyerFee > 0n) {
        await this.ledger.transfer(
          { key: `trade:${tradeId}:fee:buyer`, kind: 'trading_fee', from: { userId: buyer.userId }, to: { system: 'fees' }, asset: pair.base, amount: buyerFee, reference: tradeId },
          tx,
        );
      }
      if (sellerFee > 0n) {
        await this.ledger.transfer(
          { key: `trade:${tradeId}:fee:seller`, kind: 'trading_fee', from: { userId: seller.userId }, to: { system: 'fees' }, asset: pair.quote, amount: sellerFee, reference: tradeId },
          tx,
        );
      }
      buyer.fill(qty, price, quote, buyerFee);
      seller.fill(qty, price, quote, sellerFee);
      ctx.orders.set(maker.id, maker);
      ctx.touch(maker.side, f.price);
      tradeRows.push([tradeId, qty.toString(), price.toString(), quote.toString(), maker.id, buyer.userId, seller.userId, buyerFee.toString(), sellerFee.toString()]);
      ctx.trades.push({
        id: tradeId,
        pairId: pair.id,
        price: formatPrice(price, pair),
        quantity: formatAmount(qty, pair.base),
        quoteAmount: formatAmount(quote, pair.quote),
        side: taker.side,
        at: now.toISOString(),
      });
    }

    if (res.rested) {
      taker.priority = res.priority;
      taker.status = taker.filled > 0n ? 'partially_filled' : 'open';
      ctx.touch(taker.side, toTicks(taker.price!, pair));
    } else if (taker.filled === taker.quantity) {
      taker.status = 'filled';
    } else {
      taker.status = 'cancelled';
      taker.cancelReason = res.cancelReason ?? 'ioc';
      // Nothing was posted from the hold: give all of it back (a final posting released it otherwise).
      if (taker.holdId && res.fills.length === 0) await this.ledger.voidHold(taker.holdId, tx);
    }
    if (res.fills.length || res.rested) ctx.bookChanged = true;
    ctx.orders.set(taker.id, taker);
    await this.persist(ctx, taker.isNew ? taker : null);
    if (tradeRows.length) {
      await tx.query(
        `INSERT INTO trading_trades (id, pair_id, quantity, price, quote_amount, taker_side, taker_order_id, maker_order_id, buyer_id, seller_id, buyer_fee, seller_fee, book_seq, executed_at)
         SELECT t.id, $1, t.qty, t.price, t.quote, $2, $3, t.maker, t.buyer, t.seller, t.bfee, t.sfee, $4, $5
         FROM unnest($6::uuid[], $7::numeric[], $8::numeric[], $9::numeric[], $10::uuid[], $11::uuid[], $12::uuid[], $13::numeric[], $14::numeric[])
           WITH ORDINALITY AS t(id, qty, price, quote, maker, buyer, seller, bfee, sfee, n)
         ORDER BY t.n`,
        [pair.id, taker.side, taker.id, ctx.newSeq, now, ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((c) => tradeRows.map((r) => r[c]))],
      );
    }
  }

  /** Writes the new order (if any) and every changed order of the write. */
  private async persist(ctx: WriteCtx, inserted: OrderState | null = null) {
    const seq = ctx.bookChanged ? ctx.newSeq : ctx.seq;
    if (inserted) {
      const o = inserted;
      await ctx.tx.query(
        `INSERT INTO trading_orders (id, user_id, pair_id, side, type, time_in_force, price, quantity, filled_quantity, notional, quote_quantity, fee,
                                     status, cancel_reason, hold_id, hold_rev, priority, book_seq, client_order_id, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21)`,
        [
          o.id, o.userId, o.pairId, o.side, o.type, o.tif, o.price?.toString() ?? null, o.quantity.toString(), o.filled.toString(),
          o.notional.toString(), o.quoteQuantity.toString(), o.fee.toString(), o.status, o.cancelReason, o.holdId, o.holdRev,
          o.priority, seq, o.clientOrderId, o.expiresAt, o.createdAt,
        ],
      );
    }
    const changed = [...ctx.orders.values()].filter((o) => o !== inserted);
    const now = new Date();
    if (changed.length) {
      const col = <T>(f: (o: OrderState) => T) => changed.map(f);
      await ctx.tx.query(
        `UPDATE trading_orders o SET price = v.price, quantity = v.quantity, filled_quantity = v.filled, notional = v.notional,
                quote_quantity = v.quote, fee = v.fee, status = v.status, cancel_reason = v.reason, hold_id = v.hold, hold_rev = v.rev,
                priority = v.priority, book_seq = $1, updated_at = $14
         FROM unnest($2::uuid[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::text[], $10::text[],
                     $11::uuid[], $12::int[], $13::bigint[]) AS v(id, price, quantity, filled, notional, quote, fee, status, reason, hold, rev, priority)
         WHERE o.id = v.id`,
        [
          seq,
          col((o) => o.id),
          col((o) => o.price?.toString() ?? null),
          col((o) => o.quantity.toString()),
          col((o) => o.filled.toString()),
          col((o) => o.notional.toString()),
          col((o) => o.quoteQuantity.toString()),
          col((o) => o.fee.toString()),
          col((o) => o.status),
          col((o) => o.cancelReason),
          col((o) => o.holdId),
          col((o) => o.holdRev),
          col((o) => (o.resting ? o.priority : null)),
          now,
        ],
      );
      for (const o of changed) o.updatedAt = now;
    }
  }

  /**
   * Runs one write of a pair: in-process queue → transaction → pair row lock → replica at the
   * locked sequence → `work` → new sequence → commit → announce. Retried on deadlock or
   * serialization failure (everything rolled back, the replica rebuilt).
   */
  private write<T>(pair: PairSpec, work: (ctx: WriteCtx) => Promise<T>): Promise<T> {
    return this.cache.exclusive(pair.id, () => this.runAlone(pair, work));
  }

  private async runAlone<T>(pair: PairSpec, work: (ctx: WriteCtx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let ctx: WriteCtx | null = null;
      try {
        return await withTransaction(this.ds, async (tx) => {
          const seq = await this.lockPair(tx, pair);
          const book = await this.cache.checkout(tx, pair, seq);
          const c = new WriteCtx(tx, pair, book, seq);
          ctx = c;
          const result = await work(c);
          const batch = this.batchOf(c);
          if (c.bookChanged) await this.setSequence(tx, pair, c.newSeq);
          tx.afterCommit(() => {
            this.cache.release(pair.id, c.bookChanged ? c.newSeq : c.seq);
            this.announce(c, batch);
          });
          return result;
        });
      } catch (e) {
        const c = ctx as WriteCtx | null;
        if (c && !c.mutated) this.cache.release(pair.id, c.seq);
        else this.cache.invalidate(pair.id);
        const code = pgCode(e);
        if ((code === '40P01' || code === '40001') && attempt < MAX_ATTEMPTS) {
          this.batchStats.retries += 1;
          this.logger.warn(`Retrying a write of ${pair.id} after ${code} (attempt ${attempt})`);
          continue;
        }
        throw e;
      }
    }
  }

  private readonly queued = new Map<string, Queued[]>();
  /** Group-commit counters (tests, metrics): transactions that carried several placements, and how many. */
  readonly batchStats = { batches: 0, orders: 0, fallbacks: 0, deferred: 0, retries: 0 };

  /**
   * Group commit for placements. Orders for a pair that arrive while its writer is busy queue up
   * here, and the next writer takes them all (up to MAX_BATCH) into ONE transaction: one pair
   * lock, one COMMIT (one WAL flush) for the lot, each order still with its own book sequence,
   * settlement and events. An order refused cleanly (insufficient funds, found by the pre-check
   * before it wrote anything) fails alone; any other failure rolls the whole transaction back and
   * every order of it is run again on its own, so one bad order never decides another's fate.
   */
  private enqueuePlacement(pair: PairSpec, work: (ctx: WriteCtx) => Promise<OrderView>): Promise<OrderView> {
    return new Promise<OrderView>((resolve, reject) => {
      let list = this.queued.get(pair.id);
      if (!list) {
        list = [];
        this.queued.set(pair.id, list);
        void this.cache.exclusive(pair.id, () => this.drain(pair));
      }
      list.push({ work, resolve, reject });
    });
  }

  private async drain(pair: PairSpec) {
    const all = this.queued.get(pair.id) ?? [];
    this.queued.delete(pair.id);
    const items = all.slice(0, MAX_BATCH);
    const rest = all.slice(MAX_BATCH);
    // Too many for one transaction: the rest go into the next one (queued behind this).
    if (rest.length) this.requeue(pair, rest);
    if (items.length === 1) {
      await this.runAlone(pair, items[0].work).then(items[0].resolve, items[0].reject);
      return;
    }
    let outcomes: ({ ok: OrderView } | { err: unknown })[];
    try {
      outcomes = await this.runBatch(pair, items);
    } catch {
      // The batch rolled back as a whole: each order runs again on its own.
      this.batchStats.fallbacks += 1;
      for (const it of items) await this.runAlone(pair, it.work).then(it.resolve, it.reject);
      return;
    }
    this.batchStats.batches += 1;
    this.batchStats.orders += outcomes.length;
    outcomes.forEach((o, i) => ('ok' in o ? items[i].resolve(o.ok) : items[i].reject(o.err)));
    const deferred = items.slice(outcomes.length);
    if (deferred.length) {
      this.batchStats.deferred += deferred.length;
      this.requeue(pair, deferred);
    }
  }

  /** Puts placements back at the head of the pair's queue, for its next transaction. */
  private requeue(pair: PairSpec, items: Queued[]) {
    const next = this.queued.get(pair.id);
    if (next) next.unshift(...items);
    else {
      this.queued.set(pair.id, [...items]);
      void this.cache.exclusive(pair.id, () => this.drain(pair));
    }
  }

  private async runBatch(pair: PairSpec, items: Queued[]): Promise<({ ok: OrderView } | { err: unknown })[]> {
    let mutated = false;
    let seq0 = -1;
    try {
      return await withTransaction(this.ds, async (tx) => {
        seq0 = await this.lockPair(tx, pair);
        const book = await this.cache.checkout(tx, pair, seq0);
        let seq = seq0;
        const done: { ctx: WriteCtx; batch: TradingBatch }[] = [];
        const outcomes: ({ ok: OrderView } | { err: unknown })[] = [];
        for (const [i, it] of items.entries()) {
          const c = new WriteCtx(tx, pair, book, seq, i === 0);
          try {
            const view = await it.work(c);
            mutated ||= c.mutated;
            done.push({ ctx: c, batch: this.batchOf(c) });
            if (c.bookChanged) seq = c.newSeq;
            outcomes.push({ ok: view });
          } catch (e) {
            mutated ||= c.mutated;
            // It needs a lock held elsewhere: the batch ends here (this and the rest go next).
            if (e instanceof WouldBlock && !c.wrote && !c.mutated) break;
            // Only a refusal that left nothing behind in the transaction may fail alone.
            if (e instanceof DomainError && !c.wrote && !c.mutated) outcomes.push({ err: e });
            else throw e;
          }
        }
        if (seq !== seq0) await this.setSequence(tx, pair, seq);
        const final = seq;
        tx.afterCommit(() => {
          this.cache.release(pair.id, final);
          for (const d of done) this.announce(d.ctx, d.batch);
        });
        return outcomes;
      });
    } catch (e) {
      if (!mutated && seq0 >= 0) this.cache.release(pair.id, seq0);
      else this.cache.invalidate(pair.id);
      throw e;
    }
  }

  private async lockPair(tx: Tx, pair: PairSpec): Promise<number> {
    const [row] = await tx.query<{ sequence: string }>(`SELECT sequence FROM trading_pairs WHERE id = $1 FOR UPDATE`, [pair.id]);
    return Number(row.sequence);
  }

  private setSequence(tx: Tx, pair: PairSpec, seq: number) {
    return tx.query(`UPDATE trading_pairs SET sequence = $2, updated_at = now() WHERE id = $1`, [pair.id, seq]);
  }

  private announce(c: WriteCtx, batch: TradingBatch) {
    if (batch.book || batch.orders.length || batch.trades.length) this.publisher.publish(batch);
    for (const fn of c.afterCommit) fn();
  }

  private batchOf(ctx: WriteCtx): TradingBatch {
    const { pair, book } = ctx;
    const touched = { buy: [] as number[], sell: [] as number[] };
    for (const key of ctx.levels) {
      const [side, t] = key.split(':') as [Side, string];
      touched[side].push(Number(t));
    }
    const level = (side: Side, ticks: number): [string, string] => [
      formatPrice(fromTicks(ticks, pair), pair),
      formatAmount(fromLots(book.levelTotal(side, ticks), pair), pair.base),
    ];
    return {
      pairId: pair.id,
      orders: [...ctx.orders.values()].map((o) => o.view(pair)),
      trades: ctx.trades,
      book: ctx.bookChanged
        ? {
            pairId: pair.id,
            sequence: ctx.newSeq,
            bids: touched.buy.sort((a, b) => b - a).map((t) => level('buy', t)),
            asks: touched.sell.sort((a, b) => a - b).map((t) => level('sell', t)),
          }
        : null,
    };
  }

  private validatePlacement(input: PlaceOrderInput, pair: PairSpec) {
    const side = input.side as OrderSide;
    const type = input.type as OrderType;
    if (side !== 'buy' && side !== 'sell') throw badRequest('side must be "buy" or "sell"');
    if (type !== 'limit' && type !== 'market') throw badRequest('type must be "limit" or "market"');
    const quantity = this.field(() => parseQuantity(input.quantity, pair));
    let tif: OrderTif;
    let price: bigint | null = null;
    let expiresAt: Date | null = null;
    if (type === 'market') {
      if (input.price !== undefined && input.price !== null) throw badRequest('price must not be given for a market order');
      // A market order never rests: GTC means "as much as possible now", i.e. IOC.
      tif = input.timeInForce === undefined || input.timeInForce === 'GTC' ? 'IOC' : (input.timeInForce as OrderTif);
      if (tif !== 'IOC' && tif !== 'FOK') throw badRequest('timeInForce of a market order must be IOC or FOK');
    } else {
      if (input.price === undefined || input.price === null) throw badRequest('price is required for a limit order');
      price = this.field(() => parsePrice(input.price, pair));
      tif = (input.timeInForce as OrderTif | undefined) ?? (input.expiresAt ? 'GTD' : 'GTC');
      if (!['GTC', 'IOC', 'FOK', 'GTD'].includes(tif)) throw badRequest('timeInForce must be one of GTC, IOC, FOK, GTD');
      this.field(() => checkMinNotional(price!, quantity, pair));
    }
    if (tif === 'GTD') {
      const at = input.expiresAt ? new Date(input.expiresAt) : null;
      if (!at || Number.isNaN(at.getTime())) throw badRequest('expiresAt must be an ISO 8601 time for a GTD order');
      if (at.getTime() <= Date.now() + 1000 || at.getTime() > Date.now() + MAX_GTD_MS) {
        throw badRequest('expiresAt must be in the future and at most 90 days ahead');
      }
      expiresAt = at;
    } else if (input.expiresAt !== undefined) {
      throw badRequest('expiresAt is only valid with timeInForce GTD');
    }
    return { side, type, tif, price, quantity, expiresAt };
  }

  /**
   * An order placed before with this clientOrderId (or Idempotency-Key): the same request gets
   * that order back (in its current state) and nothing new happens; another request → 409.
   * A replaced order is compared on what a replace cannot change.
   */
  private async replayByClientId(userId: string, clientOrderId: string, pair: PairSpec, v: ReturnType<TradingService['validatePlacement']>) {
    const rows: OrderRow[] = await this.ds.query(`SELECT * FROM trading_orders WHERE user_id = $1 AND client_order_id = $2`, [userId, clientOrderId]);
    if (!rows.length) return null;
    const o = OrderState.fromRow(rows[0]);
    const fixed = o.pairId === pair.id && o.side === v.side && o.type === v.type && o.tif === v.tif;
    const sized = o.holdRev > 0 || (o.price === v.price && o.quantity === v.quantity);
    if (!fixed || !sized) throw conflict('clientOrderId was already used for a different order');
    return o.view(pair);
  }

  private field<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof TradingInputError) throw new DomainError('BAD_REQUEST', e.message, { field: e.field });
      throw e;
    }
  }

  private pairOf(pairId: string): PairSpec {
    const p = this.pairs.known(pairId);
    if (!p) throw notFound(`Trading pair ${pairId} not found`);
    return p;
  }

  private async findRow(orderId: string): Promise<OrderRow | null> {
    if (!/^[0-9a-f-]{36}$/i.test(orderId)) return null;
    const rows: OrderRow[] = await this.ds.query(`SELECT * FROM trading_orders WHERE id = $1`, [orderId]);
    return rows[0] ?? null;
  }

  /** The order if the caller may see it; someone else's order is "not found" (never revealed). */
  private async findVisible(user: AuthUser, orderId: string): Promise<OrderRow> {
    const row = await this.findRow(orderId);
    if (!row || (row.user_id !== user.id && !isAdmin(user))) throw notFound('Order not found');
    return row;
  }

  private async loadOrders(tx: Tx, ids: string[]): Promise<Map<string, OrderState>> {
    const rows: OrderRow[] = await tx.query(`SELECT * FROM trading_orders WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(rows.map((r) => [r.id, OrderState.fromRow(r)]));
  }
}
