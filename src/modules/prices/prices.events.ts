import { defineEvent } from '../../core/realtime/announce';
import type { PriceView } from './price-aggregate';

/** The Socket.IO room of one symbol's `price_update`, and its GraphQL topic. */
export const pricesRoom = (symbol: string) => `prices:${symbol}`;
export const priceTopic = (symbol: string) => `price:${symbol}`;

/** A symbol's aggregated price changed: `price_update` to its room, `priceUpdated` on its topic. */
export const PriceUpdated = defineEvent<PriceView>({
  socket: {
    event: 'price_update',
    payload: (p) => ({ symbol: p.symbol, price: p.price, change: p.change24h ?? '0.00', currency: p.currency, source: p.source, updatedAt: p.updatedAt }),
  },
  graphql: { topic: (p) => priceTopic(p.symbol), field: 'priceUpdated' },
});
