import { defineEvent } from '../../core/realtime/announce';
import type { PaymentView } from './payments.views';

/** GraphQL topic of one user's payments. */
export const paymentTopic = (userId: string) => `payments:user:${userId}`;

/** A payment (top-up) changed: `payment_update` `{ payment }` to the owner's sockets, `paymentUpdated` on GraphQL. */
export const PaymentUpdated = defineEvent<PaymentView>({
  socket: { event: 'payment_update', payload: (payment) => ({ payment }) },
  graphql: { topic: (p) => paymentTopic(p.userId), field: 'paymentUpdated' },
});
