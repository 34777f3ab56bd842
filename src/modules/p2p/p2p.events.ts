import { defineEvent } from '../../core/realtime/announce';
import type { EscrowView, OfferView } from './p2p.views';

/** GraphQL topic of one escrow's changes. */
export const escrowTopic = (escrowId: string) => `p2p:escrow:${escrowId}`;

/** An escrow changed: `escrow_update {escrow}` to both parties' sockets, `escrowUpdated` on GraphQL. */
export const EscrowUpdated = defineEvent<EscrowView>({
  socket: { event: 'escrow_update', payload: (escrow) => ({ escrow }) },
  graphql: { topic: (e) => escrowTopic(e.id), field: 'escrowUpdated' },
});

/** GraphQL topic of the offer market: offers are public to every signed-in user, so one topic serves all. */
export const OFFERS_TOPIC = 'p2p:offers';

/** An offer was posted or changed (price, limits, paused, closed): `offerUpdated` on GraphQL. */
export const OfferUpdated = defineEvent<OfferView>({
  graphql: { topic: () => OFFERS_TOPIC, field: 'offerUpdated' },
});
