import { defineEvent } from '../../core/realtime/announce';
import type { EscrowView } from './p2p.views';

/** GraphQL topic of one escrow's changes. */
export const escrowTopic = (escrowId: string) => `p2p:escrow:${escrowId}`;

/** An escrow changed: `escrow_update {escrow}` to both parties' sockets, `escrowUpdated` on GraphQL. */
export const EscrowUpdated = defineEvent<EscrowView>({
  socket: { event: 'escrow_update', payload: (escrow) => ({ escrow }) },
  graphql: { topic: (e) => escrowTopic(e.id), field: 'escrowUpdated' },
});
