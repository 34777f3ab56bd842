import type { IncomingHttpHeaders } from 'node:http';
import type { PaymentsConfig } from '../../../core/config/config';
import type { CheckoutRequest, CheckoutResult, NormalisedEvent, PaymentProvider, StatusReport } from './provider';
import { callJson, fromMinor, header, HttpProvider, parseJson, ProviderError, str, toMinor, WebhookRejected } from './provider';

const SIGNATURE_HEADERS = ['paypal-auth-algo', 'paypal-cert-url', 'paypal-transmission-id', 'paypal-transmission-sig', 'paypal-transmission-time'];

/**
 * PayPal Orders v2 over its REST API with `fetch` (hand-written: the flow is four documented
 * calls, and the verify call must carry the raw event, which a re-serialising SDK would not).
 * OAuth client-credentials token (cached until shortly before expiry); an order per payment
 * (our payment id as `custom_id`); an approved order is captured by the settle job; webhooks
 * are verified by PayPal's own verify-webhook-signature call.
 */
export class PaypalProvider extends HttpProvider<PaymentsConfig['paypal']> implements PaymentProvider {
  readonly name = 'paypal' as const;
  readonly kind = 'fiat' as const;
  private token: { value: string; until: number } | null = null;

  constructor(cfg: PaymentsConfig['paypal'], timeoutMs: number) {
    super(cfg, timeoutMs, ['clientId', 'clientSecret', 'webhookId']);
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const basic = Buffer.from(`${this.cfg.clientId}:${this.cfg.clientSecret}`).toString('base64');
    const r = await callJson(`${this.cfg.apiBase}/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: 'grant_type=client_credentials',
      timeoutMs: this.timeoutMs,
      what: 'PayPal OAuth token',
    });
    if (typeof r.access_token !== 'string') throw new ProviderError('PayPal OAuth token: no access_token in the answer');
    const ttl = typeof r.expires_in === 'number' ? r.expires_in : 300;
    this.token = { value: r.access_token, until: Date.now() + Math.max(ttl - 60, 10) * 1000 };
    return r.access_token;
  }

  private async api(method: string, path: string, what: string, body?: string, extra: Record<string, string> = {}): Promise<any> {
    const token = await this.accessToken();
    return this.callApi(method, path, what, { authorization: `Bearer ${token}`, ...extra }, body);
  }

  async createCheckout(req: CheckoutRequest): Promise<CheckoutResult> {
    const order = await this.api(
      'POST',
      '/v2/checkout/orders',
      'PayPal create order',
      JSON.stringify({
        intent: 'CAPTURE',
        purchase_units: [
          { reference_id: req.paymentId, custom_id: req.paymentId, description: req.description, amount: { currency_code: 'USD', value: fromMinor(req.amountMinor) } },
        ],
        application_context: { return_url: req.returnUrl, cancel_url: req.cancelUrl, user_action: 'PAY_NOW', shipping_preference: 'NO_SHIPPING' },
      }),
      { 'paypal-request-id': `checkout-${req.paymentId}` },
    );
    const link = Array.isArray(order.links) ? order.links.find((l: any) => l?.rel === 'approve' || l?.rel === 'payer-action') : null;
    if (typeof order.id !== 'string' || typeof link?.href !== 'string') throw new ProviderError('PayPal create order: no order id or approve link');
    return { providerRef: order.id, checkoutUrl: link.href, clientSecret: null };
  }

  async verifyAndParseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): Promise<NormalisedEvent> {
    const h = Object.fromEntries(SIGNATURE_HEADERS.map((n) => [n, header(headers, n)]));
    const missing = SIGNATURE_HEADERS.filter((n) => !h[n]);
    if (missing.length) throw new WebhookRejected(`PayPal signature headers missing: ${missing.join(', ')}`);
    const event = parseJson(rawBody);
    // The event goes back to PayPal byte for byte: re-serialised JSON can fail verification.
    const fields = JSON.stringify({
      auth_algo: h['paypal-auth-algo'],
      cert_url: h['paypal-cert-url'],
      transmission_id: h['paypal-transmission-id'],
      transmission_sig: h['paypal-transmission-sig'],
      transmission_time: h['paypal-transmission-time'],
      webhook_id: this.cfg.webhookId,
    });
    const body = `${fields.slice(0, -1)},"webhook_event":${rawBody.toString('utf8')}}`;
    const r = await this.api('POST', '/v1/notifications/verify-webhook-signature', 'PayPal verify webhook signature', body);
    if (r.verification_status !== 'SUCCESS') throw new WebhookRejected('PayPal says the webhook signature is not valid');
    const id = str(event.id);
    if (!id) throw new WebhookRejected('PayPal event without an id');
    return { ...this.classify(String(event.event_type ?? ''), event.resource ?? {}), providerEventId: id };
  }

  private classify(type: string, r: Record<string, any>): Omit<NormalisedEvent, 'providerEventId'> {
    const amt = r.amount ?? {};
    const related = r.supplementary_data?.related_ids ?? {};
    const upLink = Array.isArray(r.links) ? r.links.find((l: any) => l?.rel === 'up')?.href : null;
    const captureFromLink = typeof upLink === 'string' ? (upLink.match(/\/captures\/([^/?]+)/)?.[1] ?? null) : null;
    const none = { providerRef: null, amountMinor: null, currency: null, paymentId: str(r.custom_id) };
    switch (type) {
      case 'CHECKOUT.ORDER.APPROVED':
        return { ...none, kind: 'pending', providerRef: str(r.id), paymentId: str(r.purchase_units?.[0]?.custom_id), followUp: 'settle' };
      case 'CHECKOUT.ORDER.COMPLETED': {
        const cap = r.purchase_units?.[0]?.payments?.captures?.[0];
        if (cap?.status !== 'COMPLETED') return { ...none, kind: 'pending', providerRef: str(r.id), paymentId: str(r.purchase_units?.[0]?.custom_id) };
        return {
          ...none,
          kind: 'paid',
          providerRef: str(r.id),
          paymentId: str(r.purchase_units?.[0]?.custom_id),
          paymentRef: str(cap.id),
          amountMinor: toMinor(cap.amount?.value),
          currency: str(cap.amount?.currency_code),
        };
      }
      case 'PAYMENT.CAPTURE.COMPLETED':
        return { ...none, kind: 'paid', providerRef: str(related.order_id), paymentRef: str(r.id), amountMinor: toMinor(amt.value), currency: str(amt.currency_code) };
      case 'PAYMENT.CAPTURE.PENDING':
        return { ...none, kind: 'pending', providerRef: str(related.order_id), paymentRef: str(r.id) };
      case 'PAYMENT.CAPTURE.DENIED':
      case 'PAYMENT.CAPTURE.DECLINED':
        return { ...none, kind: 'failed', providerRef: str(related.order_id), paymentRef: str(r.id) };
      case 'PAYMENT.CAPTURE.REFUNDED':
      case 'PAYMENT.CAPTURE.REVERSED': {
        // The resource is the refund; the total refunded so far is in its breakdown when PayPal gives it.
        const total = toMinor(r.seller_payable_breakdown?.total_refunded_amount?.value) ?? toMinor(amt.value);
        return { ...none, kind: 'refunded', providerRef: str(related.order_id), paymentRef: captureFromLink, amountMinor: total, currency: str(amt.currency_code) };
      }
      case 'CUSTOMER.DISPUTE.CREATED': {
        const tx = r.disputed_transactions?.[0] ?? {};
        const da = r.dispute_amount ?? {};
        return { ...none, kind: 'disputed', paymentId: str(tx.custom), paymentRef: str(tx.seller_transaction_id), amountMinor: toMinor(da.value), currency: str(da.currency_code) };
      }
      default:
        return { ...none, kind: 'ignored' };
    }
  }

  /** Reads the order; an approved one is captured now (idempotent on PayPal's side by request id). */
  async fetchStatus(ref: string): Promise<StatusReport> {
    let order = await this.api('GET', `/v2/checkout/orders/${encodeURIComponent(ref)}`, 'PayPal read order');
    if (order.status === 'APPROVED') {
      order = await this.api('POST', `/v2/checkout/orders/${encodeURIComponent(ref)}/capture`, 'PayPal capture order', '{}', {
        'paypal-request-id': `capture-${ref}`,
      });
    }
    const capture = order.purchase_units?.[0]?.payments?.captures?.[0];
    if (order.status === 'COMPLETED' && capture?.status === 'COMPLETED') {
      return { kind: 'paid', amountMinor: toMinor(capture.amount?.value), currency: str(capture.amount?.currency_code), paymentRef: str(capture.id) };
    }
    if (capture?.status === 'DECLINED' || order.status === 'VOIDED') return { kind: 'failed', amountMinor: null, currency: null };
    return { kind: 'pending', amountMinor: null, currency: null };
  }
}
