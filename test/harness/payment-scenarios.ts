/**
 * The scenarios every payment provider must pass (issue 13), written once and run per
 * provider by the payments e2e files: a checkout, a forged webhook, a pending event, a valid
 * one, its retry and a second event for the same payment, a refund, and the same webhook
 * delivered 20 times at once. Each scenario uses its own user and payment.
 */
import type { DataSource } from 'typeorm';
import type { TestApp } from './app';
import { http, registerUser, TestUser } from './clients';
import { balanceOf } from './money';
import type { RemoteObject, Standin } from './payment-standins';

export interface WebhookCall {
  body: string;
  headers: Record<string, string>;
}

export interface ProviderSpec {
  provider: string;
  standin: () => Standin;
  /** What the stand-in should have recorded as the checkout amount for "25.00". */
  remoteAmount?: string;
  /** The reference the payment keeps for the remote object (default: its id). */
  refOf?: (o: RemoteObject) => string;
  paid(o: RemoteObject, amount?: string): WebhookCall;
  /** Another event (not a retry) that says the same payment was paid; null: ask through reconciliation instead. */
  second(o: RemoteObject): WebhookCall | null;
  pending(o: RemoteObject): WebhookCall;
  refund(o: RemoteObject): WebhookCall;
  /** A paid event whose signature is wrong (or missing). */
  forged(o: RemoteObject): WebhookCall;
}

export interface ScenarioContext {
  t: () => TestApp;
  ds: () => DataSource;
  reconcileOne: (paymentId: string) => Promise<unknown>;
}

export function postWebhook(t: TestApp, provider: string, call: WebhookCall) {
  const r = http(t).post(`/api/payments/webhooks/${provider}`);
  for (const [k, v] of Object.entries(call.headers)) r.set(k, v);
  return r.send(call.body);
}

export function checkout(t: TestApp, user: TestUser, provider: string, amount = '25.00', key?: string) {
  const r = http(t).post('/api/payments/checkout').set('authorization', `Bearer ${user.token}`);
  if (key) r.set('idempotency-key', key);
  return r.send({ provider, asset: 'USD', amount });
}

export const getPayment = async (t: TestApp, user: TestUser, id: string) =>
  (await http(t).get(`/api/payments/${id}`).set('authorization', `Bearer ${user.token}`).expect(200)).body;

export const usd = async (t: TestApp, user: TestUser) => (await balanceOf(t, user, 'USD')).total;

export function runProviderScenarios(spec: ProviderSpec, ctx: ScenarioContext) {
  const events = async (paymentId: string) =>
    (await ctx.ds().query(`SELECT kind, outcome FROM payment_events WHERE payment_id = $1 ORDER BY id`, [paymentId])) as { kind: string; outcome: string }[];

  async function fresh(amount = '25.00') {
    const t = ctx.t();
    const user = await registerUser(t);
    const res = await checkout(t, user, spec.provider, amount).expect(201);
    return { user, payment: res.body, remote: spec.standin().byPayment(res.body.id) };
  }

  describe(`${spec.provider}`, () => {
    it('checkout: stored pending with the provider reference and its checkout URL, through the provider API', async () => {
      const { payment, remote } = await fresh();
      expect(payment).toMatchObject({ provider: spec.provider, asset: 'USD', amount: '25.00', status: 'pending', amountPaid: '0.00', flagged: false, completedAt: null });
      expect(payment.providerRef).toBe(spec.refOf ? spec.refOf(remote) : remote.id);
      expect(payment.checkoutUrl).toMatch(/^https:\/\//);
      expect(remote.amount).toBe(spec.remoteAmount ?? '25.00');
    });

    it('a forged webhook is refused with 400 and nothing changes', async () => {
      const { user, payment, remote } = await fresh();
      const res = await postWebhook(ctx.t(), spec.provider, spec.forged(remote)).expect(400);
      expect(res.body.message).toMatch(/rejected|signature/i);
      expect(await usd(ctx.t(), user)).toBe('0.00');
      expect((await getPayment(ctx.t(), user, payment.id)).status).toBe('pending');
      expect(await events(payment.id)).toEqual([]);
    });

    it('a pending event is recorded and credits nothing', async () => {
      const { user, payment, remote } = await fresh();
      await postWebhook(ctx.t(), spec.provider, spec.pending(remote)).expect(200);
      expect(await usd(ctx.t(), user)).toBe('0.00');
      expect((await getPayment(ctx.t(), user, payment.id)).status).toBe('pending');
      const ev = await events(payment.id);
      expect(ev.map((e) => e.kind)).toEqual(['pending']);
    });

    it('a valid webhook credits once: its retry and a second event for the same payment credit nothing more', async () => {
      const { user, payment, remote } = await fresh();
      const call = spec.paid(remote);
      const first = await postWebhook(ctx.t(), spec.provider, call).expect(200);
      expect(first.body).toEqual({ received: true, duplicate: false });
      expect(await usd(ctx.t(), user)).toBe('25.00');
      const after = await getPayment(ctx.t(), user, payment.id);
      expect(after).toMatchObject({ status: 'succeeded', amountPaid: '25.00', flagged: false });
      expect(after.completedAt).not.toBeNull();

      const retry = await postWebhook(ctx.t(), spec.provider, call).expect(200);
      expect(retry.body.duplicate).toBe(true);
      const second = spec.second(remote);
      if (second) {
        const r = await postWebhook(ctx.t(), spec.provider, second).expect(200);
        expect(r.body.duplicate).toBe(false);
      } else {
        await ctx.reconcileOne(payment.id);
      }
      expect(await usd(ctx.t(), user)).toBe('25.00');
      const ledger = await ctx.ds().query(`SELECT count(*)::int AS n FROM ledger_transfers WHERE idempotency_key = $1`, [`payment:${payment.id}:credit`]);
      expect(ledger[0].n).toBe(1);
    });

    it('a refund takes the credited money back and ends refunded', async () => {
      const { user, payment, remote } = await fresh();
      await postWebhook(ctx.t(), spec.provider, spec.paid(remote)).expect(200);
      expect(await usd(ctx.t(), user)).toBe('25.00');
      const refund = spec.refund(remote);
      await postWebhook(ctx.t(), spec.provider, refund).expect(200);
      await postWebhook(ctx.t(), spec.provider, refund).expect(200);
      expect(await usd(ctx.t(), user)).toBe('0.00');
      expect(await getPayment(ctx.t(), user, payment.id)).toMatchObject({ status: 'refunded', amountPaid: '25.00', amountRefunded: '25.00' });
    });

    it('the same webhook delivered 20 times in parallel credits once', async () => {
      const { user, payment, remote } = await fresh('40.00');
      const call = spec.paid(remote);
      const results = await Promise.all(Array.from({ length: 20 }, () => postWebhook(ctx.t(), spec.provider, call)));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
      expect(await usd(ctx.t(), user)).toBe('40.00');
      expect((await getPayment(ctx.t(), user, payment.id)).status).toBe('succeeded');
    });
  });
}
