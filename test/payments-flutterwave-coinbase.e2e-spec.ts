import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, registerUser } from './harness/clients';
import { coinbaseCharge, coinbaseSign, flwTx, RemoteObject, SECRETS, Standins, startStandins } from './harness/payment-standins';
import { checkout, getPayment, postWebhook, runProviderScenarios, usd, WebhookCall } from './harness/payment-scenarios';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { PaymentsService } from '../src/modules/payments/payments.service';

/** Flutterwave (payment link, `verif-hash`, verify call) and Coinbase Commerce (charges, HMAC-SHA256 `X-CC-Webhook-Signature`). */
describe('Payments: Flutterwave and Coinbase Commerce', () => {
  let t: TestApp;
  let ds: DataSource;
  let s: Standins;

  beforeAll(async () => {
    s = await startStandins(['flutterwave', 'coinbase_commerce']);
    t = await startTestApp({ env: s.env });
    ds = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
    await s.close();
  });

  const ctx = { t: () => t, ds: () => ds, reconcileOne: (id: string) => t.app.get(PaymentsService).reconcileOne(id) };

  // ------------------------------------------------------------------ Flutterwave

  const flw = (event: string, data: Record<string, unknown>, hash = SECRETS.flutterwave.FLUTTERWAVE_WEBHOOK_HASH): WebhookCall => ({
    body: JSON.stringify({ event, data }),
    headers: { 'content-type': 'application/json', 'verif-hash': hash },
  });
  const charge = (o: RemoteObject, status: string) => ({
    id: flwTx(o),
    tx_ref: o.paymentId,
    flw_ref: `FLW-MOCK-${o.id}`,
    amount: Number(o.amount),
    charged_amount: Number(o.amount),
    currency: 'USD',
    status,
    customer: { email: 'payer@example.test' },
  });

  runProviderScenarios(
    {
      provider: 'flutterwave',
      standin: () => s.flutterwave,
      refOf: (o) => o.paymentId, // Flutterwave links are keyed by our tx_ref
      paid: (o) => {
        o.status = 'paid'; // what Flutterwave's verify call will then report
        return flw('charge.completed', charge(o, 'successful'));
      },
      second: () => null, // Flutterwave sends one charge event per transaction: the second report is reconciliation's
      pending: (o) => flw('charge.completed', charge(o, 'pending')),
      refund: (o) => flw('refund.completed', { id: Number(o.id) + 7, TransactionId: flwTx(o), AmountRefunded: Number(o.amount), status: 'completed', currency: 'USD' }),
      forged: (o) => flw('charge.completed', charge(o, 'successful'), 'not-the-hash'),
    },
    ctx,
  );

  describe('Flutterwave specifics', () => {
    it('a correctly hashed "successful" event that Flutterwave does not confirm credits nothing', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'flutterwave').expect(201)).body;
      const o = s.flutterwave.byPayment(p.id); // still pending at Flutterwave
      await postWebhook(t, 'flutterwave', flw('charge.completed', charge(o, 'successful'))).expect(200);
      expect(await usd(t, user)).toBe('0.00');
      expect((await getPayment(t, user, p.id)).status).toBe('pending');
    });

    it('credits what the verify call reports, not what the webhook says, and flags the difference', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'flutterwave', '30.00').expect(201)).body;
      const o = s.flutterwave.byPayment(p.id);
      o.status = 'paid';
      o.body.paidAmount = '29.00';
      await postWebhook(t, 'flutterwave', flw('charge.completed', { ...charge(o, 'successful'), amount: 30 })).expect(200);
      expect(await usd(t, user)).toBe('29.00');
      expect(await getPayment(t, user, p.id)).toMatchObject({ status: 'succeeded', amountPaid: '29.00', flagged: true });
    });
  });

  // ------------------------------------------------------------------ Coinbase Commerce

  const cc = (type: string, data: Record<string, unknown>, secret?: string): WebhookCall => {
    const body = JSON.stringify({ id: randomUUID(), scheduled_for: new Date().toISOString(), attempt_number: 1, event: { id: randomUUID(), resource: 'event', type, api_version: '2018-03-22', created_at: new Date().toISOString(), data } });
    return { body, headers: { 'content-type': 'application/json', 'x-cc-webhook-signature': coinbaseSign(body, secret) } };
  };

  runProviderScenarios(
    {
      provider: 'coinbase_commerce',
      standin: () => s.coinbase_commerce,
      paid: (o) => cc('charge:confirmed', coinbaseCharge(o, ['NEW', 'PENDING', 'COMPLETED'])),
      second: (o) => cc('charge:confirmed', coinbaseCharge(o, ['NEW', 'PENDING', 'COMPLETED'])),
      pending: (o) => cc('charge:pending', coinbaseCharge(o, ['NEW', 'PENDING'])),
      // Commerce has no refund event: the charge's timeline (its current state is the last entry) says REFUNDED.
      refund: (o) => cc('charge:failed', coinbaseCharge(o, ['NEW', 'PENDING', 'COMPLETED', 'REFUND PENDING', 'REFUNDED'])),
      forged: (o) => cc('charge:confirmed', coinbaseCharge(o, ['NEW', 'PENDING', 'COMPLETED']), 'wrong-secret'),
    },
    ctx,
  );

  describe('Coinbase Commerce specifics', () => {
    it('an underpaid charge is credited with what was paid (USD value of confirmed payments) and flagged', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'coinbase_commerce', '100.00').expect(201)).body;
      const o = s.coinbase_commerce.byPayment(p.id);
      await postWebhook(t, 'coinbase_commerce', cc('charge:confirmed', coinbaseCharge(o, ['NEW', 'PENDING', 'COMPLETED'], '98.50'))).expect(200);
      expect(await usd(t, user)).toBe('98.50');
      expect(await getPayment(t, user, p.id)).toMatchObject({ amountPaid: '98.50', flagged: true });
    });

    it('an expired charge that is paid late is still credited, once, and flagged', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'coinbase_commerce', '10.00').expect(201)).body;
      const o = s.coinbase_commerce.byPayment(p.id);
      await postWebhook(t, 'coinbase_commerce', cc('charge:failed', coinbaseCharge(o, ['NEW', 'EXPIRED']))).expect(200);
      expect((await getPayment(t, user, p.id)).status).toBe('expired');
      await postWebhook(t, 'coinbase_commerce', cc('charge:delayed', coinbaseCharge(o, ['NEW', 'EXPIRED', 'COMPLETED']))).expect(200);
      expect(await getPayment(t, user, p.id)).toMatchObject({ status: 'succeeded', flagged: true, amountPaid: '10.00' });
      expect(await usd(t, user)).toBe('10.00');
    });

    it('reconciliation reads the charge and settles it', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'coinbase_commerce', '14.00').expect(201)).body;
      s.coinbase_commerce.byPayment(p.id).status = 'paid';
      await ds.query(`UPDATE payments SET created_at = now() - interval '1 hour' WHERE id = $1`, [p.id]);
      await t.app.get(PaymentsService).reconcile();
      expect((await getPayment(t, user, p.id)).status).toBe('succeeded');
      expect(await usd(t, user)).toBe('14.00');
    });
  });
});
