import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import type { OrderBookView, OrderView, TradeView } from './trading.views';

/** Socket.IO room of a pair's public market data (joined with `join_trading_room`). */
export const tradingRoom = (pairId: string) => `trading:${pairId}`;
/** GraphQL topics. */
export const orderTopic = (userId: string) => `trading:order:${userId}`;
export const bookTopic = (pairId: string) => `trading:book:${pairId}`;
export const tradesTopic = (pairId: string) => `trading:trades:${pairId}`;

/** What one committed write of a pair announces. */
export interface TradingBatch {
  pairId: string;
  orders: OrderView[];
  trades: TradeView[];
  /** Changed levels ([price, total quantity], "0…" when a level emptied) and the new sequence. */
  book: OrderBookView | null;
}

/**
 * "Write, commit, then announce": called from after-commit hooks only. Socket.IO emits go
 * through the Redis adapter and GraphQL payloads through the Redis PubSub, so subscribers on
 * every instance hear them; in-process listeners (the internal price provider) get the trades.
 *
 * Ordering: within a pair every change has its own sequence (+1 each), so a client that applies
 * `orderbook_update`s on top of a snapshot can tell a gap (sequence > last + 1: fetch a new
 * snapshot) from a stale event (sequence ≤ last: ignore it), like Binance's diff depth stream.
 */
@Injectable()
export class TradingPublisher {
  private readonly logger = new Logger('TradingPublisher');
  private readonly local = new EventEmitter();

  constructor(
    private readonly realtime: RealtimePublisher,
    private readonly pubsub: GqlPubSub,
  ) {
    this.local.setMaxListeners(50);
  }

  publish(batch: TradingBatch) {
    const { pairId } = batch;
    for (const o of batch.orders) {
      this.realtime.toUser(o.userId, 'order_update', { orderId: o.id, status: o.status, data: o });
      this.gql(orderTopic(o.userId), { orderUpdated: o });
    }
    if (batch.book) {
      this.realtime.toRoom(tradingRoom(pairId), 'orderbook_update', batch.book);
      this.gql(bookTopic(pairId), { orderBookUpdated: batch.book });
    }
    for (const t of batch.trades) {
      this.realtime.toRoom(tradingRoom(pairId), 'trade_executed', t);
      this.gql(tradesTopic(pairId), { tradeExecuted: t });
    }
    if (batch.trades.length) this.local.emit('trades', pairId, batch.trades);
  }

  /** In-process: trades committed by this instance (for the internal price provider). */
  onTrades(listener: (pairId: string, trades: TradeView[]) => void): () => void {
    this.local.on('trades', listener);
    return () => this.local.off('trades', listener);
  }

  private gql(topic: string, payload: unknown) {
    this.pubsub.publish(topic, payload).catch((e) => this.logger.warn(`GraphQL publish failed: ${(e as Error).message}`));
  }
}
