/** Stripe and PayPal webhook events for the e2e tests, signed with each provider's real scheme. */
import { randomBytes, randomUUID } from 'node:crypto';
import { paypalCapture, paypalHeaders, RemoteObject, stripePi, stripeSign } from './payment-standins';
import type { WebhookCall } from './payment-scenarios';

export const stripeEvent = (type: string, object: Record<string, unknown>, secret?: string): WebhookCall => {
  const body = JSON.stringify({ id: `evt_${randomBytes(12).toString('hex')}`, object: 'event', api_version: '2025-01-01', type, data: { object } });
  return { body, headers: { 'content-type': 'application/json', 'stripe-signature': stripeSign(body, secret) } };
};
export const stripeSession = (o: RemoteObject, amount = o.amount) => ({
  id: o.id,
  object: 'checkout.session',
  amount_total: Math.round(Number(amount) * 100),
  currency: 'usd',
  payment_status: 'paid',
  payment_intent: stripePi(o),
  client_reference_id: o.paymentId,
  metadata: { paymentId: o.paymentId },
});

export const paypalEvent = (type: string, resource: Record<string, unknown>, opts: { webhookId?: string; tamper?: boolean } = {}): WebhookCall => {
  const body = JSON.stringify({ id: `WH-${randomUUID()}`, event_version: '1.0', resource_type: 'capture', event_type: type, resource });
  const headers = paypalHeaders(body, opts);
  // A tampered body keeps the original signature: PayPal's verify call refuses it.
  return { body: opts.tamper ? body.replace('"USD"', '"USD" ') : body, headers: { 'content-type': 'application/json', ...headers } };
};
export const paypalCaptureResource = (o: RemoteObject, amount = o.amount) => ({
  id: paypalCapture(o),
  status: 'COMPLETED',
  amount: { value: amount, currency_code: 'USD' },
  custom_id: o.paymentId,
  supplementary_data: { related_ids: { order_id: o.id } },
});

