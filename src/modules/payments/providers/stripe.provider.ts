import Stripe from 'stripe';
import type { IncomingHttpHeaders } from 'node:http';
import type { PaymentsConfig } from '../../../core/config/config';
import {
  CheckoutRequest,
  CheckoutResult,
  header,
  NormalisedEvent,
  PaymentProvider,
  ProviderError,
  StatusReport,
  str,
  WebhookRejected,
} from './provider';

/** Seconds a `Stripe-Signature` timestamp may be old (Stripe's own default). */
const TOLERANCE_SECONDS = 300;

/**
 * Stripe through its official SDK: a Checkout Session per payment (our payment id in its
 * metadata and in the PaymentIntent's, so `checkout.session.completed` and
 * `payment_intent.succeeded` both name the same payment), `stripe.webhooks.constructEvent`
 * for the `Stripe-Signature` header.
 */
export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe' as const;
  readonly kind = 'fiat' as const;
  readonly enabled: boolean;
  private readonly client: Stripe | null;

  constructor(private readonly cfg: PaymentsConfig['stripe'], timeoutMs: number) {
    this.enabled = !!(cfg.secretKey && cfg.webhookSecret);
    const base = new URL(cfg.apiBase);
    this.client = cfg.secretKey
      ? new Stripe(cfg.secretKey, {
          host: base.hostname,
          port: base.port || (base.protocol === 'http:' ? 80 : 443),
          protocol: base.protocol === 'http:' ? 'http' : 'https',
          timeout: timeoutMs,
          maxNetworkRetries: 1,
          appInfo: { name: 'softchat-realtime' },
        })
      : null;
  }

  async createCheckout(req: CheckoutRequest): Promise<CheckoutResult> {
    const session = await this.call('create a Checkout Session', () =>
      this.client!.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: Number(req.amountMinor), product_data: { name: req.description } } }],
          client_reference_id: req.paymentId,
          metadata: { paymentId: req.paymentId, userId: req.userId },
          payment_intent_data: { metadata: { paymentId: req.paymentId, userId: req.userId } },
          success_url: req.returnUrl,
          cancel_url: req.cancelUrl,
          // Stripe accepts 30 minutes to 24 hours from now.
          expires_at: Math.floor(Math.min(Math.max(req.expiresAt.getTime(), Date.now() + 31 * 60_000), Date.now() + 24 * 3600_000 - 60_000) / 1000),
        },
        { idempotencyKey: `checkout-${req.paymentId}` },
      ),
    );
    if (!session.id || !session.url) throw new ProviderError('Stripe returned a Checkout Session without an id or url');
    return { providerRef: session.id, checkoutUrl: session.url, clientSecret: session.client_secret ?? null };
  }

  async verifyAndParseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): Promise<NormalisedEvent> {
    const sig = header(headers, 'stripe-signature');
    if (!sig) throw new WebhookRejected('Stripe-Signature header is missing');
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(rawBody, sig, this.cfg.webhookSecret!, TOLERANCE_SECONDS);
    } catch (e) {
      throw new WebhookRejected(`Stripe-Signature is not valid: ${(e as Error).message.slice(0, 200)}`);
    }
    return { ...this.classify(event.type, event.data.object as unknown as Record<string, any>), providerEventId: event.id };
  }

  private classify(type: string, o: Record<string, any>): Omit<NormalisedEvent, 'providerEventId'> {
    const meta = (o.metadata ?? {}) as Record<string, string>;
    const currency = typeof o.currency === 'string' ? o.currency.toUpperCase() : null;
    const amount = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : null);
    const base = { providerRef: str(o.id), currency, paymentId: meta.paymentId ?? o.client_reference_id ?? null, amountMinor: null };
    switch (type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
        return {
          ...base,
          kind: o.payment_status === 'paid' ? 'paid' : 'pending',
          amountMinor: amount(o.amount_total),
          paymentRef: str(o.payment_intent),
        };
      case 'checkout.session.async_payment_failed':
        return { ...base, kind: 'failed', paymentRef: str(o.payment_intent) };
      case 'checkout.session.expired':
        return { ...base, kind: 'expired' };
      case 'payment_intent.succeeded':
        return { ...base, kind: 'paid', providerRef: null, paymentRef: str(o.id), amountMinor: amount(o.amount_received) };
      // In Checkout a declined attempt is not the end: the payer may try another card.
      case 'payment_intent.processing':
      case 'payment_intent.payment_failed':
        return { ...base, kind: 'pending', providerRef: null, paymentRef: str(o.id) };
      case 'charge.refunded':
        return { ...base, kind: 'refunded', providerRef: null, paymentRef: str(o.payment_intent), amountMinor: amount(o.amount_refunded) };
      case 'charge.dispute.created':
        return { ...base, kind: 'disputed', providerRef: null, paymentRef: str(o.payment_intent), amountMinor: amount(o.amount) };
      default:
        return { ...base, kind: 'ignored' };
    }
  }

  async fetchStatus(ref: string): Promise<StatusReport> {
    const s = await this.call('read a Checkout Session', () => this.client!.checkout.sessions.retrieve(ref));
    const paymentRef = str(s.payment_intent);
    if (s.payment_status === 'paid') return { kind: 'paid', amountMinor: s.amount_total != null ? BigInt(s.amount_total) : null, currency: s.currency?.toUpperCase() ?? null, paymentRef };
    if (s.status === 'expired') return { kind: 'expired', amountMinor: null, currency: null, paymentRef };
    return { kind: 'pending', amountMinor: null, currency: null, paymentRef };
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (!this.client) throw new ProviderError('Stripe is not configured', true);
    try {
      return await fn();
    } catch (e) {
      const err = e as { type?: string; statusCode?: number; message?: string };
      const unavailable = err.type === 'StripeConnectionError' || err.statusCode === 503 || err.statusCode === 429;
      throw new ProviderError(`Stripe could not ${what}: ${(err.message ?? 'error').slice(0, 200)}`, unavailable);
    }
  }
}
