import { Injectable } from '@nestjs/common';
import { Announcer } from '../../core/realtime/announce';
import { NotificationsService } from '../notifications/notifications.service';
import { OutboxService } from '../../core/outbox/outbox.service';
import type { Executor } from '../../core/database/transaction';
import type { PaymentStatus } from './payment.machine';
import { PaymentUpdated } from './payments.events';
import type { PaymentView } from './payments.views';

const PROVIDER_LABEL: Record<string, string> = {
  stripe: 'Stripe',
  paypal: 'PayPal',
  flutterwave: 'Flutterwave',
  coinbase_commerce: 'Coinbase Commerce',
  bitpay: 'BitPay',
  coinpayments: 'CoinPayments',
};

interface PaymentNotification {
  userId: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  dedupeKey: string;
}
const PAYMENT_NOTIFICATION = 'payments.notification';

/**
 * Live events after commit (best-effort): `payment_update {payment}` to the owner's sockets and
 * `paymentUpdated` to the owner's GraphQL subscriptions. The inbox notification of a top-up that
 * succeeded or was refunded must not be lost: `record()` writes it into the transactional outbox in
 * the settlement's own transaction, and the outbox delivers it at least once, deduplicated per
 * payment and outcome (so retried provider events notify once).
 */
@Injectable()
export class PaymentsAnnouncer {
  constructor(
    private readonly announcer: Announcer,
    private readonly notifications: NotificationsService,
    outbox: OutboxService,
  ) {
    this.outbox = outbox;
    outbox.register<PaymentNotification>(PAYMENT_NOTIFICATION, async (n) => {
      await this.notifications.notify(n.userId, { type: 'payment', title: n.title, body: n.body, data: n.data }, { dedupeKey: n.dedupeKey });
    });
  }

  private readonly outbox: OutboxService;

  /** In the caller's transaction: the notification a status change deserves, if any. */
  async record(tx: Executor, payment: PaymentView, previous: PaymentStatus | null): Promise<void> {
    if (payment.status === previous) return;
    const via = PROVIDER_LABEL[payment.provider] ?? payment.provider;
    let n: PaymentNotification | null = null;
    if (payment.status === 'succeeded') {
      n = {
        userId: payment.userId,
        title: 'Top-up received',
        body: `${payment.amountPaid} ${payment.asset} from ${via} is now in your wallet.`,
        data: { paymentId: payment.id, status: payment.status, amount: payment.amountPaid, asset: payment.asset },
        dedupeKey: `payment:${payment.id}:succeeded`,
      };
    } else if (payment.status === 'refunded' && payment.amountPaid !== '0.00') {
      n = {
        userId: payment.userId,
        title: 'Top-up refunded',
        body: `Your ${payment.amountPaid} ${payment.asset} top-up through ${via} was refunded or charged back.`,
        data: { paymentId: payment.id, status: payment.status },
        dedupeKey: `payment:${payment.id}:refunded`,
      };
    }
    if (n) await this.outbox.add(tx, { kind: PAYMENT_NOTIFICATION, payload: n, dedupeKey: `outbox:${n.dedupeKey}` });
  }

  /** After commit: live events to the owner's sockets and subscriptions. */
  announce(payment: PaymentView): void {
    void this.announcer.announce(PaymentUpdated, payment, { user: payment.userId });
  }
}
