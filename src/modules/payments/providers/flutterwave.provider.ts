import type { IncomingHttpHeaders } from 'node:http';
import type { PaymentsConfig } from '../../../core/config/config';
import type { CheckoutRequest, CheckoutResult, NormalisedEvent, PaymentProvider, StatusReport } from './provider';
import { fromMinor, header, HttpProvider, parseJson, ProviderError, safeEqual, str, toMinor, WebhookRejected } from './provider';

/**
 * Flutterwave v3 over its REST API with `fetch` (its Node SDK is thin and rarely updated).
 * A payment link per payment (`tx_ref` = our payment id, which is also the reference we keep);
 * webhooks carry the secret hash set in the dashboard in `verif-hash`. Because that hash is a
 * static shared secret, a `paid` event is confirmed with Flutterwave's verify call before it
 * counts, and the amount credited is the one the verify call reports.
 */
export class FlutterwaveProvider extends HttpProvider<PaymentsConfig['flutterwave']> implements PaymentProvider {
  readonly name = 'flutterwave' as const;
  readonly kind = 'fiat' as const;

  constructor(cfg: PaymentsConfig['flutterwave'], timeoutMs: number) {
    super(cfg, timeoutMs, ['secretKey', 'webhookHash']);
  }

  private api(method: string, path: string, what: string, body?: unknown) {
    return this.callApi(method, path, what, { authorization: `Bearer ${this.cfg.secretKey}` }, body);
  }

  async createCheckout(req: CheckoutRequest): Promise<CheckoutResult> {
    const r = await this.api('POST', '/v3/payments', 'Flutterwave create payment link', {
      tx_ref: req.paymentId,
      amount: fromMinor(req.amountMinor),
      currency: 'USD',
      redirect_url: req.returnUrl,
      customer: { email: `${req.userId}@users.softchat.invalid` },
      customizations: { title: req.description },
      meta: { paymentId: req.paymentId, userId: req.userId },
    });
    const link = r?.data?.link;
    if (r.status !== 'success' || typeof link !== 'string') throw new ProviderError('Flutterwave create payment link: no link in the answer');
    return { providerRef: req.paymentId, checkoutUrl: link, clientSecret: null };
  }

  async verifyAndParseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): Promise<NormalisedEvent> {
    const given = header(headers, 'verif-hash');
    if (!given || !safeEqual(given, this.cfg.webhookHash!)) throw new WebhookRejected('verif-hash is missing or wrong');
    const body = parseJson(rawBody);
    const type = String(body.event ?? body['event.type'] ?? '');
    const d = body.data ?? {};
    if (type === 'charge.completed') {
      const txId = str(d.id);
      if (!txId) throw new WebhookRejected('Flutterwave charge event without a transaction id');
      const eventId = `charge:${txId}:${String(d.status ?? '')}`;
      if (d.status === 'successful') {
        const v = await this.verifyTransaction(txId);
        return { ...v, providerEventId: eventId, providerRef: v.providerRef ?? str(d.tx_ref) };
      }
      const kind = d.status === 'failed' ? 'failed' : 'pending';
      return { kind, providerEventId: eventId, providerRef: str(d.tx_ref), paymentRef: txId, amountMinor: null, currency: str(d.currency) };
    }
    if (type === 'refund.completed') {
      const refundId = str(d.id);
      const txId = str(d.TransactionId ?? d.transaction_id);
      if (!refundId) throw new WebhookRejected('Flutterwave refund event without an id');
      return {
        kind: 'refunded',
        providerEventId: `refund:${refundId}`,
        providerRef: str(d.tx_ref),
        paymentRef: txId,
        amountMinor: toMinor(d.AmountRefunded ?? d.amount_refunded),
        currency: str(d.currency),
      };
    }
    const anyId = str(d.id) ?? 'unknown';
    return { kind: 'ignored', providerEventId: `${type || 'event'}:${anyId}`.slice(0, 255), providerRef: str(d.tx_ref), amountMinor: null, currency: null };
  }

  private async verifyTransaction(txId: string): Promise<Omit<NormalisedEvent, 'providerEventId'>> {
    const r = await this.api('GET', `/v3/transactions/${encodeURIComponent(txId)}/verify`, 'Flutterwave verify transaction');
    return this.fromTransaction(r?.data ?? {}, txId);
  }

  private fromTransaction(d: Record<string, any>, txId: string | null): Omit<NormalisedEvent, 'providerEventId'> & StatusReport {
    const paid = d.status === 'successful';
    return {
      kind: paid ? 'paid' : d.status === 'failed' ? 'failed' : 'pending',
      providerRef: str(d.tx_ref),
      paymentRef: str(d.id) ?? txId,
      amountMinor: paid ? toMinor(d.amount) : null,
      currency: str(d.currency),
    };
  }

  async fetchStatus(ref: string): Promise<StatusReport> {
    try {
      const r = await this.api('GET', `/v3/transactions/verify_by_reference?tx_ref=${encodeURIComponent(ref)}`, 'Flutterwave verify by reference');
      return this.fromTransaction(r?.data ?? {}, null);
    } catch (e) {
      // No transaction yet for this reference: the payer has not paid.
      if (e instanceof ProviderError && !e.unavailable && /answered 404/.test(e.message)) return { kind: 'pending', amountMinor: null, currency: null };
      throw e;
    }
  }
}
