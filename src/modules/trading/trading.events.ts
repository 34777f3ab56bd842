import { defineEvent } from '../../core/realtime/announce';
import type { OrderBookView, OrderView, TradeView } from './trading.views';

/** Socket.IO room of a pair's public market data (joined with `join_trading_room`). */
export const tradingRoom = (pairId: string) => `trading:${pairId}`;
/** GraphQL topics of `orderUpdated`, `orderBookUpdated(pairId)` and `tradeExecuted(pairId)`. */
export const orderTopic = (userId: string) => `trading:order:${userId}`;
export const bookTopic = (pairId: string) => `trading:book:${pairId}`;
export const tradesTopic = (pairId: string) => `trading:trades:${pairId}`;

/**
 * Ordering: within a pair every change has its own sequence (+1 each), so a client that applies
 * `orderbook_update`s on top of a snapshot can tell a gap (sequence > last + 1: fetch a new
 * snapshot) from a stale event (sequence ≤ last: ignore it), like Binance's diff depth stream.
 */

/** An order of the user changed: `order_update` to the owner's sockets, `orderUpdated` on GraphQL. Audience: `{ user: order.userId }`. */
export const OrderUpdated = defineEvent<OrderView>({
  socket: { event: 'order_update', payload: (o) => ({ orderId: o.id, status: o.status, data: o }) },
  graphql: { topic: (o) => orderTopic(o.userId), field: 'orderUpdated' },
});

/** Changed levels of a pair's book and its new sequence. Audience: `{ room: tradingRoom(pairId) }`. */
export const OrderBookUpdated = defineEvent<OrderBookView>({
  socket: 'orderbook_update',
  graphql: { topic: (b) => bookTopic(b.pairId), field: 'orderBookUpdated' },
});

/** A fill on a pair (`side` is the taker's). Audience: `{ room: tradingRoom(pairId) }`. */
export const TradeExecuted = defineEvent<TradeView>({
  socket: 'trade_executed',
  graphql: { topic: (t) => tradesTopic(t.pairId), field: 'tradeExecuted' },
});
