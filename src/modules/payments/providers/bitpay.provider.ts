import type { IncomingHttpHeaders } from 'node:http';
import type { PaymentsConfig } from '../../../core/config/config';
import type { PaymentEventKind } from '../payment.machine';
import type { CheckoutRequest, CheckoutResult, NormalisedEvent, PaymentProvider, StatusReport } from './provider';
import { fromMinor, header, HttpProvider, hmac, parseJson, ProviderError, safeEqual, str, toMinor, WebhookRejected } from './provider';

/**
 * BitPay invoices over its REST API with `fetch`, using a POS-facade token (no client key
 * pairing needed, so the heavy SDK brings nothing). Webhooks: `x-signature` = base64
 * HMAC-SHA256 of the raw body keyed with the webhook secret. Invoice states: `confirmed` /
 * `complete` are paid (the invoice's price, in USD), `paid` is seen but unconfirmed, `expired`
 * and `invalid`/`declined` end it; refund webhooks (`refund_success`) take money back.
 */
export class BitpayProvider extends HttpProvider<PaymentsConfig['bitpay']> implements PaymentProvider {
  readonly name = 'bitpay' as const;
  readonly kind = 'crypto' as const;

  constructor(cfg: PaymentsConfig['bitpay'], timeoutMs: number) {
    super(cfg, timeoutMs, ['token', 'webhookSecret']);
  }

  private api(method: string, path: string, what: string, body?: unknown) {
    return this.callApi(method, path, what, { 'x-accept-version': '2.0.0' }, body);
  }

  async createCheckout(req: CheckoutRequest): Promise<CheckoutResult> {
    const r = await this.api('POST', '/invoices', 'BitPay create invoice', {
      token: this.cfg.token,
      price: Number(fromMinor(req.amountMinor)),
      currency: 'USD',
      orderId: req.paymentId,
      itemDesc: req.description,
      posData: JSON.stringify({ paymentId: req.paymentId }),
      notificationURL: req.webhookUrl,
      redirectURL: req.returnUrl,
      closeURL: req.cancelUrl,
      extendedNotifications: true,
      transactionSpeed: 'medium',
    });
    const inv = r?.data ?? {};
    if (typeof inv.id !== 'string' || typeof inv.url !== 'string') throw new ProviderError('BitPay create invoice: no id or url');
    return { providerRef: inv.id, checkoutUrl: inv.url, clientSecret: null };
  }

  async verifyAndParseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): Promise<NormalisedEvent> {
    const sig = header(headers, 'x-signature');
    if (!sig || !safeEqual(sig, hmac('sha256', this.cfg.webhookSecret!, rawBody, 'base64'))) throw new WebhookRejected('x-signature is missing or wrong');
    const body = parseJson(rawBody);
    const name = String(body.event?.name ?? '');
    const d = body.data ?? {};
    if (name.startsWith('refund_')) {
      const refundId = str(d.id);
      if (!refundId) throw new WebhookRejected('BitPay refund event without an id');
      const done = name === 'refund_success';
      return {
        kind: done ? 'refunded' : 'ignored',
        providerEventId: `${name}:${refundId}`,
        providerRef: str(d.invoice),
        amountMinor: done ? toMinor(d.amount) : null,
        currency: str(d.currency),
      };
    }
    const invoiceId = str(d.id);
    if (!invoiceId) throw new WebhookRejected('BitPay invoice event without an invoice id');
    const s = this.fromInvoice(d, name);
    return { ...s, providerEventId: `${name || 'invoice'}:${invoiceId}`, providerRef: invoiceId, paymentId: str(d.orderId) };
  }

  private fromInvoice(d: Record<string, any>, eventName = ''): Omit<StatusReport, 'kind'> & { kind: PaymentEventKind | 'ignored' } {
    const price = toMinor(d.price);
    const currency = str(d.currency);
    switch (String(d.status ?? '')) {
      case 'confirmed':
      case 'complete':
        return { kind: 'paid', amountMinor: price, currency };
      case 'paid':
        return { kind: 'pending', amountMinor: null, currency };
      case 'expired':
        return { kind: 'expired', amountMinor: null, currency };
      case 'invalid':
      case 'declined':
        return { kind: 'failed', amountMinor: null, currency };
      default:
        return { kind: eventName === 'invoice_created' ? 'ignored' : 'pending', amountMinor: null, currency };
    }
  }

  async fetchStatus(ref: string): Promise<StatusReport> {
    const r = await this.api('GET', `/invoices/${encodeURIComponent(ref)}?token=${encodeURIComponent(this.cfg.token!)}`, 'BitPay read invoice');
    const s = this.fromInvoice(r?.data ?? {});
    return s.kind === 'ignored' ? { kind: 'pending', amountMinor: null, currency: null } : (s as StatusReport);
  }
}
