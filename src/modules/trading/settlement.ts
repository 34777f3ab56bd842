import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import type { AssetSymbol } from '../ledger/assets';
import { InsufficientFundsError, LedgerService } from '../ledger/ledger.service';
import type { PostItem } from '../ledger/ledger.types';
import { feeFor, formatAmount } from '../ledger/money';
import type { MatchResult } from './engine/matching-engine';
import { formatPrice, fromLots, fromTicks, quoteAmount, toTicks } from './trading.math';
import { TradeInsert, TradesHeader, TradingRepository } from './trading.repository';
import type { OrderState } from './trading.views';
import { WouldBlock, WriteCtx } from './write-context';

/**
 * The money side of a pair's write, in the write's transaction: account locks, order holds, and
 * the settlement of fills (each fill's ledger postings and fees, the final order states, the
 * order and trade rows). Money moves through LedgerService only.
 */
@Injectable()
export class TradingSettlement {
  constructor(
    private readonly ledger: LedgerService,
    private readonly repo: TradingRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Locks every ledger account this write may touch — the taker's and the makers' accounts in
   * both assets of the pair, and the fee accounts — in one go, in the ledger's lock order.
   * Writers of different pairs that settle the same users then queue instead of deadlocking, and
   * the taker's available balance read here stays exact for the whole write. A later write of a
   * group-commit batch (`!ctx.mayWait`) already holds account locks: waiting now could close a
   * cycle with another pair's batch, so it takes only what is free, and if anything is busy it
   * throws WouldBlock (the batch commits without it and it starts the next transaction).
   * Returns available balances by `${userId}:${asset}`.
   */
  async lockAccounts(ctx: WriteCtx, userIds: string[]): Promise<Map<string, bigint>> {
    const { pair } = ctx;
    const fees = this.config.fees.tradingBps > 0 ? [{ system: 'fees' as const, asset: pair.base }, { system: 'fees' as const, asset: pair.quote }] : [];
    const available = await this.ledger.lockAvailable(ctx.tx, { userIds, assets: [pair.base, pair.quote], systemAccounts: fees, wait: ctx.mayWait });
    if (!available) throw new WouldBlock();
    return available;
  }

  /** Refuses (InsufficientFundsError, before anything is written) when the user's available balance plus `released` is below `amount`. */
  checkCovered(available: Map<string, bigint>, userId: string, need: { asset: AssetSymbol; amount: bigint }, released = 0n) {
    if ((available.get(`${userId}:${need.asset}`) ?? 0n) + released < need.amount) throw new InsufficientFundsError(need.asset, need.amount);
  }

  /** Holds `need` for order `o` (revision `o.holdRev`, so each replace gets its own idempotency key). */
  async hold(ctx: WriteCtx, o: OrderState, need: { asset: AssetSymbol; amount: bigint }) {
    ctx.wrote = true;
    const h = await this.ledger.hold(
      { key: `order:${o.id}:hold:${o.holdRev}`, kind: 'order_hold', account: { userId: o.userId }, asset: need.asset, amount: need.amount, reference: `order:${o.id}` },
      ctx.tx,
    );
    o.holdId = h.id;
  }

  /** What the order's current hold still holds (zero without one). */
  async heldBy(ctx: WriteCtx, o: OrderState): Promise<bigint> {
    return o.holdId ? (await this.ledger.getHold(o.holdId, ctx.tx)).remaining : 0n;
  }

  /** Gives the whole rest of the order's hold back. */
  async release(ctx: WriteCtx, o: OrderState) {
    if (o.holdId) await this.ledger.voidHold(o.holdId, ctx.tx);
  }

  /**
   * Settles the fills of `taker` against the makers (ledger postings in this transaction), sets
   * the final states and writes everything. Maker price; keys derived from each trade's id.
   */
  async settle(ctx: WriteCtx, taker: OrderState, res: MatchResult) {
    const { pair, tx } = ctx;
    const makers = res.fills.length ? await this.repo.loadOrders(tx, [...new Set(res.fills.map((f) => f.makerId))]) : new Map<string, OrderState>();
    const takerDone = !res.rested;
    const bps = this.config.fees.tradingBps;
    const now = new Date();
    const trades: TradeInsert[] = [];
    // With LEDGER_GROUP_COMMIT every posting of this taker's fills goes in ONE ledger statement
    // after the loop (in order: a hold posted by several fills is checked fill by fill); without
    // it, each fill's postings are their own round trips, as before.
    const batched: PostItem[] = [];
    const post = async (item: PostItem) => {
      if (this.ledger.batching) batched.push(item);
      else if ('holdId' in item) await this.ledger.postHold(item, tx);
      else await this.ledger.transfer(item, tx);
    };

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
      await post({
        key: `trade:${tradeId}:base`,
        holdId: seller.holdId!,
        asset: pair.base,
        amount: qty,
        to: { userId: buyer.userId },
        kind: 'trade',
        final: sellerFinal,
        reference: tradeId,
        metadata: { ...meta, orderId: seller.id, side: 'sell' },
      });
      await post({
        key: `trade:${tradeId}:quote`,
        holdId: buyer.holdId!,
        asset: pair.quote,
        amount: quote,
        to: { userId: seller.userId },
        kind: 'trade',
        final: buyerFinal,
        reference: tradeId,
        metadata: { ...meta, orderId: buyer.id, side: 'buy' },
      });
      const buyerFee = feeFor(qty, bps);
      const sellerFee = feeFor(quote, bps);
      if (buyerFee > 0n) {
        await post({ key: `trade:${tradeId}:fee:buyer`, kind: 'trading_fee', from: { userId: buyer.userId }, to: { system: 'fees' }, asset: pair.base, amount: buyerFee, reference: tradeId });
      }
      if (sellerFee > 0n) {
        await post({ key: `trade:${tradeId}:fee:seller`, kind: 'trading_fee', from: { userId: seller.userId }, to: { system: 'fees' }, asset: pair.quote, amount: sellerFee, reference: tradeId });
      }
      buyer.fill(qty, price, quote, buyerFee);
      seller.fill(qty, price, quote, sellerFee);
      ctx.orders.set(maker.id, maker);
      ctx.touch(maker.side, f.price);
      trades.push({ id: tradeId, quantity: qty, price, quote, makerOrderId: maker.id, buyerId: buyer.userId, sellerId: seller.userId, buyerFee, sellerFee });
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

    if (batched.length) {
      // Any refusal fails the write (the pair writer's transaction rolls back and the order is refused or retried alone).
      for (const o of await this.ledger.postMany(batched.map((item) => [item]), tx)) if (!o.ok) throw o.error;
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
    // The new order, the makers' new states and the trades: one statement.
    await this.persist(ctx, taker.isNew ? taker : null, { header: { pairId: pair.id, takerSide: taker.side, takerOrderId: taker.id, bookSeq: ctx.newSeq, at: now }, rows: trades });
  }

  /** Writes the new order (if any), every changed order of the write and the trades (if any), in one statement. */
  async persist(ctx: WriteCtx, inserted: OrderState | null = null, trades?: { header: TradesHeader; rows: TradeInsert[] }) {
    const changed = [...ctx.orders.values()].filter((o) => o !== inserted);
    const now = new Date();
    await this.repo.writeOrders(ctx.tx, { inserted, changed, seq: ctx.rowSeq, now, trades });
    for (const o of changed) o.updatedAt = now;
  }
}
