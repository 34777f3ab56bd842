import { Injectable, Logger } from '@nestjs/common';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { NotificationsService } from '../notifications/notifications.service';
import type { PaymentStatus } from './payment.machine';
import type { PaymentView } from './payments.views';

/** GraphQL topic of one user's payments. */
export const paymentTopic = (userId: string) => `payments:user:${userId}`;

const PROVIDER_LABEL: Record<string, string> = {
  stripe: 'Stripe',
  paypal: 'PayPal',
  flutterwave: 'Flutterwave',
  coinbase_commerce: 'Coinbase Commerce',
  bitpay: 'BitPay',
  coinpayments: 'CoinPayments',
};

/**
 * After commit: `payment_update {payment}` to the owner's sockets, `paymentUpdated` to the
 * owner's GraphQL subscriptions, and an inbox notification when a top-up succeeds or is
 * refunded (deduplicated per payment and outcome, so retried events notify once).
 * TODO(lead): may move onto the transactional outbox once it lands.
 */
@Injectable()
export class PaymentsAnnouncer {
  private readonly logger = new Logger('Payments');

  constructor(
    private readonly publisher: RealtimePublisher,
    private readonly pubsub: GqlPubSub,
    private readonly notifications: NotificationsService,
  ) {}

  async announce(payment: PaymentView, previous: PaymentStatus | null): Promise<void> {
    this.publisher.toUser(payment.userId, 'payment_update', { payment });
    this.pubsub.publish(paymentTopic(payment.userId), { paymentUpdated: payment }).catch((e) => this.logger.warn(`paymentUpdated publish failed: ${e.message}`));
    if (payment.status === previous) return;
    const via = PROVIDER_LABEL[payment.provider] ?? payment.provider;
    try {
      if (payment.status === 'succeeded') {
        await this.notifications.notify(
          payment.userId,
          {
            type: 'payment',
            title: 'Top-up received',
            body: `${payment.amountPaid} ${payment.asset} from ${via} is now in your wallet.`,
            data: { paymentId: payment.id, status: payment.status, amount: payment.amountPaid, asset: payment.asset },
          },
          { dedupeKey: `payment:${payment.id}:succeeded` },
        );
      } else if (payment.status === 'refunded' && payment.amountPaid !== '0.00') {
        await this.notifications.notify(
          payment.userId,
          {
            type: 'payment',
            title: 'Top-up refunded',
            body: `Your ${payment.amountPaid} ${payment.asset} top-up through ${via} was refunded or charged back.`,
            data: { paymentId: payment.id, status: payment.status },
          },
          { dedupeKey: `payment:${payment.id}:refunded` },
        );
      }
    } catch (e) {
      this.logger.warn(`payment notification failed for ${payment.id}: ${(e as Error).message}`);
    }
  }
}
