import { Injectable, Logger } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest, notFound, serviceUnavailable } from '../../core/http/domain-error';
import { JobsService } from '../../core/queue/jobs.service';
import { PaymentSettlementService } from './payment-settlement.service';
import { isProviderName, ProviderError, WebhookRejected } from './providers/provider';
import { PaymentProviders } from './providers/registry';

export const settleJobId = (paymentId: string) => `payments-settle-${paymentId}`;

/**
 * `POST /api/payments/webhooks/:provider`: verify the raw body with the provider's own scheme
 * (400 and nothing stored when it fails), then settle in one transaction. Follow-up work a
 * provider needs (PayPal: capture an approved order) is queued, not done inline.
 */
@Injectable()
export class PaymentWebhooksService {
  private readonly logger = new Logger('Payments');

  constructor(
    private readonly providers: PaymentProviders,
    private readonly settlement: PaymentSettlementService,
    private readonly jobs: JobsService,
  ) {}

  async receive(providerName: string, rawBody: Buffer | undefined, headers: IncomingHttpHeaders): Promise<{ received: true; duplicate: boolean }> {
    if (!isProviderName(providerName)) throw notFound('Unknown payment provider');
    const provider = this.providers.get(providerName);
    if (!provider.enabled) throw serviceUnavailable(`${providerName} is not configured`);
    if (!rawBody || rawBody.length === 0) throw badRequest('The webhook body is empty');
    let event;
    try {
      event = await provider.verifyAndParseWebhook(rawBody, headers);
    } catch (e) {
      if (e instanceof WebhookRejected) throw badRequest(`Webhook rejected: ${e.message}`);
      // Could not verify now (the provider's verify call failed): 503 so the provider retries.
      if (e instanceof ProviderError) throw serviceUnavailable(`Could not verify the webhook: ${e.message}`);
      throw e;
    }
    const r = await this.settlement.apply(providerName, event, 'webhook');
    if (event.followUp === 'settle' && r.paymentId && !r.duplicate) {
      await this.jobs
        .add('payments', 'settle', { paymentId: r.paymentId }, { jobId: settleJobId(r.paymentId), removeOnComplete: true, removeOnFail: true })
        .catch((e) => this.logger.warn(`could not queue settle for ${r.paymentId}: ${(e as Error).message}`));
    }
    return { received: true, duplicate: r.duplicate };
  }
}
