import type { IncomingHttpHeaders } from 'node:http';
import type { PaymentsConfig } from '../../../core/config/config';
import type { PaymentEventKind } from '../payment.machine';
import type { CheckoutRequest, CheckoutResult, NormalisedEvent, PaymentProvider, StatusReport } from './provider';
import { fromMinor, header, HttpProvider, hmac, parseJson, ProviderError, safeEqual, str, toMinor, WebhookRejected } from './provider';

const API_VERSION = '2018-03-22';

/**
 * Coinbase Commerce charges over its REST API with `fetch` (the official Node SDK is archived).
 * Webhooks: `X-CC-Webhook-Signature` = hex HMAC-SHA256 of the raw body with the shared secret.
 * The charge's timeline (last entry = its current state) decides: COMPLETED is paid (the
 * amount is the sum of the confirmed payments' local, i.e. USD, values), PENDING is detected
 * but unconfirmed (nothing credited), EXPIRED / CANCELED end it, REFUNDED takes it back.
 */
export class CoinbaseCommerceProvider extends HttpProvider<PaymentsConfig['coinbaseCommerce']> implements PaymentProvider {
  readonly name = 'coinbase_commerce' as const;
  readonly kind = 'crypto' as const;

  constructor(cfg: PaymentsConfig['coinbaseCommerce'], timeoutMs: number) {
    super(cfg, timeoutMs, ['apiKey', 'webhookSecret']);
  }

  private api(method: string, path: string, what: string, body?: unknown) {
    return this.callApi(method, path, what, { 'x-cc-api-key': this.cfg.apiKey!, 'x-cc-version': API_VERSION }, body);
  }

  async createCheckout(req: CheckoutRequest): Promise<CheckoutResult> {
    const r = await this.api('POST', '/charges', 'Coinbase Commerce create charge', {
      name: 'Softchat top-up',
      description: req.description,
      pricing_type: 'fixed_price',
      local_price: { amount: fromMinor(req.amountMinor), currency: 'USD' },
      metadata: { paymentId: req.paymentId, userId: req.userId },
      redirect_url: req.returnUrl,
      cancel_url: req.cancelUrl,
    });
    const c = r?.data ?? {};
    if (typeof c.id !== 'string' || typeof c.hosted_url !== 'string') throw new ProviderError('Coinbase Commerce create charge: no id or hosted_url');
    return { providerRef: c.id, checkoutUrl: c.hosted_url, clientSecret: null };
  }

  async verifyAndParseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): Promise<NormalisedEvent> {
    const sig = header(headers, 'x-cc-webhook-signature');
    if (!sig || !safeEqual(sig.toLowerCase(), hmac('sha256', this.cfg.webhookSecret!, rawBody))) {
      throw new WebhookRejected('X-CC-Webhook-Signature is missing or wrong');
    }
    const body = parseJson(rawBody);
    const event = body.event ?? {};
    const id = str(event.id);
    if (!id) throw new WebhookRejected('Coinbase Commerce event without an id');
    const charge = event.data ?? {};
    const report = this.fromCharge(charge, String(event.type ?? ''));
    return { ...report, providerEventId: id, providerRef: str(charge.id), paymentId: str(charge.metadata?.paymentId) };
  }

  private fromCharge(c: Record<string, any>, eventType = ''): Omit<StatusReport, 'kind'> & { kind: PaymentEventKind | 'ignored' } {
    const timeline: { status?: string }[] = Array.isArray(c.timeline) ? c.timeline : [];
    const state = String(timeline[timeline.length - 1]?.status ?? '').toUpperCase();
    const payments: any[] = Array.isArray(c.payments) ? c.payments : [];
    const local = (p: any) => toMinor(p?.value?.local?.amount) ?? 0n;
    const confirmed = payments.filter((p) => ['CONFIRMED', 'COMPLETED', 'RESOLVED'].includes(String(p?.status ?? '').toUpperCase()));
    const paidLocal = confirmed.reduce((s, p) => s + local(p), 0n);
    const priced = toMinor(c.pricing?.local?.amount);
    switch (state) {
      case 'COMPLETED':
      case 'RESOLVED':
        return { kind: 'paid', amountMinor: paidLocal > 0n ? paidLocal : priced, currency: 'USD' };
      case 'REFUNDED':
        return { kind: 'refunded', amountMinor: null, currency: 'USD' };
      case 'EXPIRED':
        return { kind: 'expired', amountMinor: null, currency: null };
      case 'CANCELED':
        return { kind: 'failed', amountMinor: null, currency: null };
      case 'NEW':
      case 'SIGNED':
      case 'PENDING':
      case 'REFUND PENDING':
      case 'UNRESOLVED':
        return { kind: eventType === 'charge:created' ? 'ignored' : 'pending', amountMinor: null, currency: null };
      default:
        return { kind: eventType === 'charge:failed' ? 'failed' : 'ignored', amountMinor: null, currency: null };
    }
  }

  async fetchStatus(ref: string): Promise<StatusReport> {
    const r = await this.api('GET', `/charges/${encodeURIComponent(ref)}`, 'Coinbase Commerce read charge');
    const s = this.fromCharge(r?.data ?? {});
    return s.kind === 'ignored' ? { kind: 'pending', amountMinor: null, currency: null } : (s as StatusReport);
  }
}
