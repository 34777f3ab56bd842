import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, http, registerUser } from './harness/clients';
import { bitpayInvoice, bitpaySign, coinpaymentsIpn, coinpaymentsSign, RemoteObject, Standins, startStandins } from './harness/payment-standins';
import { checkout, getPayment, postWebhook, runProviderScenarios, usd, WebhookCall } from './harness/payment-scenarios';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { PaymentsService } from '../src/modules/payments/payments.service';

/** BitPay (invoices, base64 HMAC-SHA256 `x-signature`) and CoinPayments (HMAC-SHA512 `HMAC` on API calls and form-encoded IPNs). */
describe('Payments: BitPay and CoinPayments', () => {
  let t: TestApp;
  let ds: DataSource;
  let s: Standins;

  beforeAll(async () => {
    s = await startStandins(['bitpay', 'coinpayments']);
    t = await startTestApp({ env: { ...s.env, PAYMENTS_WEBHOOK_BASE_URL: 'https://api.softchat.test' } });
    ds = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
    await s.close();
  });

  const ctx = { t: () => t, ds: () => ds, reconcileOne: (id: string) => t.app.get(PaymentsService).reconcileOne(id) };

  // ------------------------------------------------------------------ BitPay

  const bp = (name: string, code: number, data: Record<string, unknown>, secret?: string): WebhookCall => {
    const body = JSON.stringify({ event: { code, name }, data });
    return { body, headers: { 'content-type': 'application/json', 'x-signature': bitpaySign(body, secret) } };
  };

  runProviderScenarios(
    {
      provider: 'bitpay',
      standin: () => s.bitpay,
      paid: (o) => bp('invoice_confirmed', 1005, bitpayInvoice(o, 'confirmed')),
      second: (o) => bp('invoice_completed', 1006, bitpayInvoice(o, 'complete')),
      pending: (o) => bp('invoice_paidInFull', 1003, bitpayInvoice(o, 'paid')),
      refund: (o) => bp('refund_success', 1016, { id: `rf-${o.id}`, invoice: o.id, status: 'success', amount: Number(o.amount), currency: 'USD' }),
      forged: (o) => bp('invoice_confirmed', 1005, bitpayInvoice(o, 'confirmed'), 'not-the-secret'),
    },
    ctx,
  );

  describe('BitPay specifics', () => {
    it('sends the per-checkout notification URL to BitPay, and a tampered body fails the signature', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'bitpay', '21.00').expect(201)).body;
      const o = s.bitpay.byPayment(p.id);
      expect(o.body).toMatchObject({ notificationURL: 'https://api.softchat.test/api/payments/webhooks/bitpay', currency: 'USD', price: 21, token: 'bitpay-pos-token' });
      const good = bp('invoice_confirmed', 1005, bitpayInvoice(o, 'confirmed'));
      await postWebhook(t, 'bitpay', { ...good, body: good.body.replace('"price":21', '"price":2100') }).expect(400);
      expect(await usd(t, user)).toBe('0.00');
    });

    it('an expired invoice ends expired; a later expired event changes nothing', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'bitpay', '21.00').expect(201)).body;
      const o = s.bitpay.byPayment(p.id);
      await postWebhook(t, 'bitpay', bp('invoice_expired', 1004, bitpayInvoice(o, 'expired'))).expect(200);
      await postWebhook(t, 'bitpay', bp('invoice_failedToConfirm', 1013, bitpayInvoice(o, 'invalid'))).expect(200);
      expect((await getPayment(t, user, p.id)).status).toBe('expired');
    });
  });

  // ------------------------------------------------------------------ CoinPayments

  const ipn = (o: RemoteObject, status: number, opts: { secret?: string; extra?: Record<string, string> } = {}): WebhookCall => {
    const body = coinpaymentsIpn(o, status, opts.extra);
    return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', hmac: coinpaymentsSign(body, opts.secret) } };
  };

  runProviderScenarios(
    {
      provider: 'coinpayments',
      standin: () => s.coinpayments,
      paid: (o) => ipn(o, 100),
      second: (o) => ipn(o, 2),
      pending: (o) => ipn(o, 1),
      refund: (o) => ipn(o, -2),
      forged: (o) => ipn(o, 100, { secret: 'not-the-ipn-secret' }),
    },
    ctx,
  );

  describe('CoinPayments specifics', () => {
    it('signs create_transaction with HMAC-SHA512 of the exact form body and sends the IPN URL', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'coinpayments', '33.00').expect(201)).body;
      const o = s.coinpayments.byPayment(p.id);
      expect(o.body).toMatchObject({ cmd: 'create_transaction', currency1: 'USD', currency2: 'BTC', amount: '33.00', ipn_url: 'https://api.softchat.test/api/payments/webhooks/coinpayments' });
    });

    it('an IPN for another merchant, or without ipn_mode=hmac, is refused even when correctly signed', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'coinpayments').expect(201)).body;
      const o = s.coinpayments.byPayment(p.id);
      await postWebhook(t, 'coinpayments', ipn(o, 100, { extra: { merchant: 'someone-else' } })).expect(400);
      await postWebhook(t, 'coinpayments', ipn(o, 100, { extra: { ipn_mode: 'httpauth' } })).expect(400);
      await postWebhook(t, 'coinpayments', { body: coinpaymentsIpn(o, 100), headers: { 'content-type': 'application/x-www-form-urlencoded' } }).expect(400);
      expect(await usd(t, user)).toBe('0.00');
    });

    it('reconciliation asks get_tx_info: a complete transaction is credited, a timed-out one expires', async () => {
      const user = await registerUser(t);
      const done = (await checkout(t, user, 'coinpayments', '17.00').expect(201)).body;
      const gone = (await checkout(t, user, 'coinpayments', '18.00').expect(201)).body;
      s.coinpayments.byPayment(done.id).status = 'paid';
      s.coinpayments.byPayment(gone.id).status = 'expired';
      await ds.query(`UPDATE payments SET created_at = now() - interval '1 hour' WHERE id = ANY($1)`, [[done.id, gone.id]]);
      await t.app.get(PaymentsService).reconcile();
      expect((await getPayment(t, user, done.id)).status).toBe('succeeded');
      expect((await getPayment(t, user, gone.id)).status).toBe('expired');
      expect(await usd(t, user)).toBe('17.00');
    });

    it('a webhook body over the limit is refused with 413, never parsed', async () => {
      const big = 'x=' + randomBytes(200 * 1024).toString('hex');
      const res = await http(t).post('/api/payments/webhooks/coinpayments').set('content-type', 'application/x-www-form-urlencoded').send(big);
      expect(res.status).toBe(413);
    });
  });
});
