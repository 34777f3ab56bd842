import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { pgCode } from '../../core/database/transaction';
import { badRequest, conflict, DomainError, notFound, unprocessable } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { keyToken } from '../../core/http/idempotency';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { formatAmount } from '../ledger/money';
import { OrderExpiry } from './order-expiry';
import { PairWriter } from './pair-writer';
import { PairsService } from './pairs.service';
import { TradingSettlement } from './settlement';
import { ORDER_STATUSES, OrderStatus, PairSpec, checkMinNotional, formatPrice, limitHold, parsePrice, parseQuantity, toLots, toTicks } from './trading.math';
import { TradingRepository } from './trading.repository';
import { Placement, PlaceOrderInput, ReplaceOrderInput, engineTif, field, isSamePlacement, placementHold, validatePlacement } from './trading.rules';
import { OrderRow, OrderState, OrderView } from './trading.views';

export type { PlaceOrderInput, ReplaceOrderInput } from './trading.rules';

/**
 * Orders: the use cases (place, cancel, replace, expire, and reading them back). Each one checks
 * the request, then runs its work as one write of the pair (PairWriter: pair lock, book replica,
 * group commit, announce after commit); the money side of that work — account locks, holds and
 * the settlement of fills — is TradingSettlement's, the SQL is TradingRepository's, and the pure
 * decisions are in trading.rules.ts.
 */
@Injectable()
export class TradingService {
  constructor(
    private readonly repo: TradingRepository,
    private readonly writer: PairWriter,
    private readonly settlement: TradingSettlement,
    private readonly pairs: PairsService,
    private readonly expiry: OrderExpiry,
  ) {}

  // ------------------------------------------------------------------ reads

  async getOrder(user: AuthUser, orderId: string): Promise<OrderView> {
    const row = await this.findVisible(user, orderId);
    return OrderState.fromRow(row).view(this.pairOf(row.pair_id));
  }

  async listOrders(userId: string, q: { status?: unknown; pairId?: unknown; limit?: unknown; cursor?: unknown }): Promise<Page<OrderView>> {
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, (v): v is [string, string] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string'));
    let statuses: OrderStatus[] | null = null;
    if (q.status !== undefined && q.status !== '') {
      statuses = String(q.status).split(',') as OrderStatus[];
      if (!statuses.every((s) => ORDER_STATUSES.includes(s))) {
        throw badRequest(`status must be one of ${ORDER_STATUSES.join(', ')} (comma separated)`);
      }
    }
    const pairId = q.pairId !== undefined && q.pairId !== '' ? (await this.pairs.get(q.pairId)).id : null;
    let before: [Date, string] | null = null;
    if (cursor) {
      const at = new Date(cursor[0]);
      if (Number.isNaN(at.getTime())) throw badRequest('cursor is invalid');
      before = [at, cursor[1]];
    }
    const rows = await this.repo.listOrders(userId, { statuses, pairId, before, limit: limit + 1 });
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
    const rows = await this.repo.orderTrades(orderId);
    return rows.map((t) => {
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
    const v = validatePlacement(input, pair);
    const clientOrderId = input.clientOrderId ?? (idempotencyKey ? `idem:${keyToken(idempotencyKey)}` : null);
    if (clientOrderId) {
      const replay = await this.replayByClientId(user.id, clientOrderId, pair, v);
      if (replay) return replay;
    }
    const orderId = randomUUID();
    try {
      return await this.writer.place(pair, async (ctx) => {
        const now = new Date();
        const o = Object.assign(new OrderState(), {
          id: orderId, userId: user.id, pairId: pair.id, side: v.side, type: v.type, tif: v.tif, price: v.price, quantity: v.quantity,
          clientOrderId, expiresAt: v.expiresAt, createdAt: now, updatedAt: now, isNew: true,
        });
        const lots = toLots(v.quantity, pair);
        const ticks = v.price === null ? undefined : toTicks(v.price, pair);

        // Hold first (422 leaves nothing behind), for what the order may trade under the pair lock.
        const makers = new Set<string>();
        const pv = ctx.book.preview(v.side, lots, user.id, ticks ?? null, makers);
        const hold = placementHold(v, pair, { lots, filledLots: pv.filled, segments: pv.segments });
        const available = await this.settlement.lockAccounts(ctx, [user.id, ...makers]);
        if (hold.amount > 0n) {
          this.settlement.checkCovered(available, user.id, hold);
          await this.settlement.hold(ctx, o, hold);
        }

        ctx.mutated = true;
        const res = ctx.book.process({ id: orderId, owner: user.id, side: v.side, kind: v.type, tif: engineTif(v.tif), price: ticks, qty: lots, priority: ctx.newSeq });
        await this.settlement.settle(ctx, o, res);
        if (o.tif === 'GTD' && o.resting) ctx.afterCommit.push(() => this.expiry.scheduleAfterCommit(o.id, o.expiresAt!));
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
    const row = user ? await this.findVisible(user, orderId) : await this.repo.findOrder(orderId);
    if (!row) throw notFound('Order not found');
    const pair = this.pairOf(row.pair_id);
    return this.writer.write(pair, async (ctx) => {
      const o = (await this.repo.loadOrders(ctx.tx, [orderId])).get(orderId)!;
      if (!o.resting) throw conflict(`Order is already ${o.status}`, { status: o.status });
      if (reason === 'expired' && (!o.expiresAt || o.expiresAt.getTime() > Date.now())) {
        throw new DomainError('CONFLICT', 'Order has not expired yet', { notYetDue: true, expiresAt: o.expiresAt?.toISOString() ?? null });
      }
      ctx.mutated = true;
      const resting = ctx.book.cancel(o.id);
      if (resting) ctx.touch(o.side, resting.price);
      await this.settlement.release(ctx, o);
      o.status = 'cancelled';
      o.cancelReason = reason;
      ctx.bookChanged = true;
      ctx.orders.set(o.id, o);
      await this.settlement.persist(ctx);
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
    const newPrice = input.price !== undefined ? field(() => parsePrice(input.price, pair)) : null;
    const newQty = input.quantity !== undefined ? field(() => parseQuantity(input.quantity, pair)) : null;
    if (pair.status !== 'trading') throw unprocessable(`Trading on ${pair.id} is halted`);
    return this.writer.write(pair, async (ctx) => {
      const o = (await this.repo.loadOrders(ctx.tx, [orderId])).get(orderId)!;
      if (!o.resting) throw conflict(`Order is already ${o.status}`, { status: o.status });
      const price = newPrice ?? o.price!;
      const quantity = newQty ?? o.quantity;
      if (quantity <= o.filled) {
        throw badRequest(`quantity must be greater than the filled quantity ${formatAmount(o.filled, pair.base)}`);
      }
      field(() => checkMinNotional(price, quantity, pair));
      if (price === o.price && quantity === o.quantity) return o.view(pair);
      const remaining = quantity - o.filled;
      const need = limitHold(o.side, price, remaining, pair);
      const makers = new Set<string>();
      ctx.book.preview(o.side, toLots(remaining, pair), o.userId, toTicks(price, pair), makers);
      const available = await this.settlement.lockAccounts(ctx, [o.userId, ...makers]);
      this.settlement.checkCovered(available, o.userId, need, await this.settlement.heldBy(ctx, o));

      // A new hold for the new remaining size replaces the old one.
      await this.settlement.release(ctx, o);
      o.holdRev += 1;
      await this.settlement.hold(ctx, o, need);

      ctx.mutated = true;
      const old = ctx.book.cancel(o.id);
      if (old) ctx.touch(o.side, old.price);
      o.price = price;
      o.quantity = quantity;
      o.status = o.filled > 0n ? 'partially_filled' : 'open';
      const res = ctx.book.process({ id: o.id, owner: o.userId, side: o.side, kind: 'limit', tif: 'GTC', price: toTicks(price, pair), qty: toLots(remaining, pair), priority: ctx.newSeq });
      ctx.bookChanged = true;
      await this.settlement.settle(ctx, o, res);
      return o.view(pair);
    });
  }

  // ------------------------------------------------------------- helpers

  /**
   * An order placed before with this clientOrderId (or Idempotency-Key): the same request gets
   * that order back (in its current state) and nothing new happens; another request → 409.
   */
  private async replayByClientId(userId: string, clientOrderId: string, pair: PairSpec, v: Placement) {
    const row = await this.repo.findByClientId(userId, clientOrderId);
    if (!row) return null;
    const o = OrderState.fromRow(row);
    if (!isSamePlacement(o, pair, v)) throw conflict('clientOrderId was already used for a different order');
    return o.view(pair);
  }

  private pairOf(pairId: string): PairSpec {
    const p = this.pairs.known(pairId);
    if (!p) throw notFound(`Trading pair ${pairId} not found`);
    return p;
  }

  /** The order if the caller may see it; someone else's order is "not found" (never revealed). */
  private async findVisible(user: AuthUser, orderId: string): Promise<OrderRow> {
    const row = await this.repo.findOrder(orderId);
    if (!row || (row.user_id !== user.id && !isAdmin(user))) throw notFound('Order not found');
    return row;
  }
}
