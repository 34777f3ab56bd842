import { Module } from '@nestjs/common';
import { IdempotencyInterceptor } from '../../core/http/idempotency';
import { NotificationsModule } from '../notifications/notifications.module';
import { PaymentSettlementService } from './payment-settlement.service';
import { PaymentWebhooksService } from './payment-webhooks.service';
import { PaymentsAnnouncer } from './payments.announcer';
import { AdminPaymentsController, PaymentsController } from './payments.controller';
import { PaymentsJobs } from './payments.jobs';
import { PaymentsRepository } from './payments.repository';
import { PaymentsResolver } from './payments.resolver';
import { PaymentsService } from './payments.service';
import { PaymentProviders } from './providers/registry';

/**
 * Top-ups through Stripe, PayPal, Flutterwave, Coinbase Commerce, BitPay and CoinPayments:
 * one provider interface and six adapters (providers/), checkouts stored before the provider
 * is called, webhooks verified over the raw body and applied exactly once through the ledger
 * (payment.machine.ts decides), reconciliation of what webhooks missed, live updates.
 */
@Module({
  imports: [NotificationsModule],
  controllers: [PaymentsController, AdminPaymentsController],
  providers: [
    PaymentProviders,
    PaymentsRepository,
    PaymentsAnnouncer,
    PaymentSettlementService,
    PaymentsService,
    PaymentWebhooksService,
    PaymentsJobs,
    PaymentsResolver,
    IdempotencyInterceptor,
  ],
  exports: [PaymentsService],
})
export class PaymentsModule {}
