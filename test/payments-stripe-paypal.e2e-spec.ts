import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, connectSocket, gql, gqlWs, http, loginAdmin, nextEvent, registerUser, subscribe, TestUser, waitForGqlSubscriber, eventually } from './harness/clients';
import { paypalCapture, Standins, startStandins, stripePi } from './harness/payment-standins';
import { paypalCaptureResource, paypalEvent, stripeEvent, stripeSession } from './harness/payment-events';
import { checkout, getPayment, postWebhook, runProviderScenarios, usd } from './harness/payment-scenarios';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { PaymentsService } from '../src/modules/payments/payments.service';

/** Stripe (official SDK against a stand-in) and PayPal (REST + verify-webhook-signature), plus the routes all providers share. */
describe('Payments: Stripe and PayPal', () => {
  let t: TestApp;
  let ds: DataSource;
  let s: Standins;
  let admin: TestUser;

  beforeAll(async () => {
    s = await startStandins(['stripe', 'paypal']);
    t = await startTestApp({ env: { ...s.env, PAYMENTS_RETURN_URL: 'https://app.softchat.test/wallet' } });
    ds = t.app.get(getDataSourceToken());
    admin = await loginAdmin(t);
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
    await s.close();
  });

  const ctx = { t: () => t, ds: () => ds, reconcileOne: (id: string) => t.app.get(PaymentsService).reconcileOne(id) };

  // ------------------------------------------------------------------ Stripe

  runProviderScenarios(
    {
      provider: 'stripe',
      standin: () => s.stripe,
      paid: (o, amount) => stripeEvent('checkout.session.completed', stripeSession(o, amount)),
      second: (o) =>
        stripeEvent('payment_intent.succeeded', { id: stripePi(o), object: 'payment_intent', amount_received: Math.round(Number(o.amount) * 100), currency: 'usd', metadata: { paymentId: o.paymentId } }),
      pending: (o) => stripeEvent('payment_intent.processing', { id: stripePi(o), object: 'payment_intent', currency: 'usd', metadata: { paymentId: o.paymentId } }),
      refund: (o) =>
        stripeEvent('charge.refunded', { id: `ch_${o.id.slice(8)}`, object: 'charge', payment_intent: stripePi(o), amount_refunded: Math.round(Number(o.amount) * 100), currency: 'usd', metadata: {} }),
      forged: (o) => stripeEvent('checkout.session.completed', stripeSession(o), 'whsec_not_the_real_one'),
    },
    ctx,
  );

  // ------------------------------------------------------------------ PayPal

  runProviderScenarios(
    {
      provider: 'paypal',
      standin: () => s.paypal,
      paid: (o, amount) => paypalEvent('PAYMENT.CAPTURE.COMPLETED', paypalCaptureResource(o, amount)),
      second: (o) =>
        paypalEvent('CHECKOUT.ORDER.COMPLETED', {
          id: o.id,
          status: 'COMPLETED',
          purchase_units: [{ custom_id: o.paymentId, payments: { captures: [{ id: paypalCapture(o), status: 'COMPLETED', amount: { value: o.amount, currency_code: 'USD' } }] } }],
        }),
      pending: (o) => paypalEvent('PAYMENT.CAPTURE.PENDING', { ...paypalCaptureResource(o), status: 'PENDING' }),
      refund: (o) =>
        paypalEvent('PAYMENT.CAPTURE.REFUNDED', {
          id: `RF-${o.id}`,
          status: 'COMPLETED',
          amount: { value: o.amount, currency_code: 'USD' },
          seller_payable_breakdown: { total_refunded_amount: { value: o.amount, currency_code: 'USD' } },
          links: [{ rel: 'up', href: `https://api.sandbox.paypal.test/v2/payments/captures/${paypalCapture(o)}` }],
        }),
      forged: (o) => paypalEvent('PAYMENT.CAPTURE.COMPLETED', paypalCaptureResource(o), { tamper: true }),
    },
    ctx,
  );

  describe('PayPal specifics', () => {
    it('an approved order is captured by the settle job and credited once', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'paypal', '12.50').expect(201)).body;
      const o = s.paypal.byPayment(p.id);
      o.body.approved = true;
      await postWebhook(t, 'paypal', paypalEvent('CHECKOUT.ORDER.APPROVED', { id: o.id, status: 'APPROVED', purchase_units: [{ custom_id: p.id }] })).expect(200);
      await eventually(async () => (await getPayment(t, user, p.id)).status === 'succeeded', { timeoutMs: 10000 });
      expect(s.paypal.calls.some((c) => c.path === `/v2/checkout/orders/${o.id}/capture`)).toBe(true);
      // PayPal's own capture event afterwards changes nothing.
      await postWebhook(t, 'paypal', paypalEvent('PAYMENT.CAPTURE.COMPLETED', paypalCaptureResource(o))).expect(200);
      expect(await usd(t, user)).toBe('12.50');
    });

    it("when PayPal's verify call fails the webhook answers 503 (PayPal retries) and nothing is stored", async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'paypal').expect(201)).body;
      s.paypal.failNext = 1;
      await postWebhook(t, 'paypal', paypalEvent('PAYMENT.CAPTURE.COMPLETED', paypalCaptureResource(s.paypal.byPayment(p.id)))).expect(503);
      expect((await ds.query(`SELECT count(*)::int AS n FROM payment_events WHERE payment_id = $1`, [p.id]))[0].n).toBe(0);
      expect(await usd(t, user)).toBe('0.00');
    });

    it('a signature for another webhook id is refused', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'paypal').expect(201)).body;
      const o = s.paypal.byPayment(p.id);
      await postWebhook(t, 'paypal', paypalEvent('PAYMENT.CAPTURE.COMPLETED', paypalCaptureResource(o), { webhookId: 'WH-SOMEONE-ELSE' })).expect(400);
      expect(await usd(t, user)).toBe('0.00');
    });
  });

  // ------------------------------------------------------------------ shared behaviour

  describe('checkout rules', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await registerUser(t);
    });

    it('lists the providers with enabled = keys configured', async () => {
      const res = await http(t).get('/api/payments/providers').set('authorization', `Bearer ${user.token}`).expect(200);
      const by = Object.fromEntries(res.body.map((p: { provider: string }) => [p.provider, p]));
      expect(by.stripe).toEqual({ provider: 'stripe', kind: 'fiat', assets: ['USD'], enabled: true });
      expect(by.paypal.enabled).toBe(true);
      expect(by.flutterwave.enabled).toBe(false);
      expect(by.bitpay).toMatchObject({ kind: 'crypto', enabled: false });
      expect(res.body).toHaveLength(6);
    });

    it('refuses a disabled provider with 503, and bad input with 400 naming the field', async () => {
      await checkout(t, user, 'flutterwave').expect(503);
      const cases: [object, RegExp][] = [
        [{ provider: 'stripe', asset: 'BTC', amount: '10.00' }, /asset/],
        [{ provider: 'stripe', asset: 'USD', amount: '0.50' }, /amount/],
        [{ provider: 'stripe', asset: 'USD', amount: '10000.01' }, /amount/],
        [{ provider: 'stripe', asset: 'USD', amount: 10 }, /amount/],
        [{ provider: 'stripe', asset: 'USD', amount: '1.001' }, /amount/],
        [{ provider: 'venmo', asset: 'USD', amount: '10.00' }, /provider/],
      ];
      for (const [body, field] of cases) {
        const res = await http(t).post('/api/payments/checkout').set('authorization', `Bearer ${user.token}`).send(body).expect(400);
        expect(JSON.stringify(res.body.message)).toMatch(field);
      }
      await http(t).post('/api/payments/checkout').send({ provider: 'stripe', asset: 'USD', amount: '10.00' }).expect(401);
    });

    it('an Idempotency-Key replay returns the same payment and creates one provider object', async () => {
      const key = `co-${randomUUID()}`;
      const before = s.stripe.objects.size;
      const a = (await checkout(t, user, 'stripe', '30.00', key).expect(201)).body;
      const b = await checkout(t, user, 'stripe', '30.00', key).expect(201);
      expect(b.body.id).toBe(a.id);
      expect(b.headers['idempotent-replayed']).toBe('true');
      expect(s.stripe.objects.size).toBe(before + 1);
      await checkout(t, user, 'stripe', '31.00', key).expect(409);
    });

    it('a provider failure answers 502 and marks the payment failed, never a 500', async () => {
      s.stripe.failNext = 2; // the SDK retries once
      const res = await checkout(t, user, 'stripe', '15.00').expect(502);
      expect(res.body.message).toMatch(/stripe/);
      const list = (await http(t).get('/api/payments?status=failed').set('authorization', `Bearer ${user.token}`).expect(200)).body;
      expect(list.items[0]).toMatchObject({ provider: 'stripe', amount: '15.00', status: 'failed' });
      s.stripe.failNext = 0;
    });

    it('strangers cannot read a payment (404) but admins can; lists are mine only; admin list filters', async () => {
      const owner = await registerUser(t);
      const stranger = await registerUser(t);
      const p = (await checkout(t, owner, 'paypal', '20.00').expect(201)).body;
      await http(t).get(`/api/payments/${p.id}`).set('authorization', `Bearer ${stranger.token}`).expect(404);
      await http(t).get(`/api/payments/${randomUUID()}`).set('authorization', `Bearer ${stranger.token}`).expect(404);
      await http(t).get(`/api/payments/not-a-uuid`).set('authorization', `Bearer ${stranger.token}`).expect(404);
      expect((await http(t).get(`/api/payments/${p.id}`).set('authorization', `Bearer ${admin.token}`).expect(200)).body.id).toBe(p.id);
      expect((await http(t).get('/api/payments').set('authorization', `Bearer ${stranger.token}`).expect(200)).body.items).toEqual([]);
      await http(t).get('/api/admin/payments').set('authorization', `Bearer ${stranger.token}`).expect(403);
      const all = (await http(t).get('/api/admin/payments?provider=paypal&status=pending&limit=200').set('authorization', `Bearer ${admin.token}`).expect(200)).body;
      expect(all.items.every((x: { provider: string; status: string }) => x.provider === 'paypal' && x.status === 'pending')).toBe(true);
      expect(all.items.some((x: { id: string }) => x.id === p.id)).toBe(true);
      await http(t).get('/api/admin/payments?provider=venmo').set('authorization', `Bearer ${admin.token}`).expect(400);
      const g = await gql(t, `query($id: ID!) { payment(paymentId: $id) { id } }`, { id: p.id }, stranger.token);
      expect(g.body.errors?.[0]?.extensions?.code ?? g.body.errors?.[0]?.message).toBeTruthy();
      expect(g.body.data?.payment ?? null).toBeNull();
    });

    it('a webhook for an unknown provider is 404, and for a disabled one 503', async () => {
      await http(t).post('/api/payments/webhooks/venmo').send('{}').expect(404);
      await http(t).post('/api/payments/webhooks/bitpay').set('content-type', 'application/json').send('{}').expect(503);
    });
  });

  describe('live updates and out-of-order events', () => {
    it('payment_update on the socket, paymentUpdated on GraphQL (owner only), and a notification on success', async () => {
      const user = await registerUser(t);
      const other = await registerUser(t);
      const created = await gql(
        t,
        `mutation($in: CheckoutInput!) { createCheckout(input: $in, idempotencyKey: "gql-1") { id status provider amount checkoutUrl } }`,
        { in: { provider: 'stripe', asset: 'USD', amount: '19.99' } },
        user.token,
      ).expect(200);
      const p = created.body.data.createCheckout;
      expect(p).toMatchObject({ status: 'pending', provider: 'stripe', amount: '19.99' });
      const socket = await connectSocket(t, user.token);
      const otherSocket = await connectSocket(t, other.token);
      const ws = gqlWs(t, user.token);
      const sub = subscribe(ws, `subscription { paymentUpdated { id status amountPaid } }`);
      const wsOther = gqlWs(t, other.token);
      const subOther = subscribe(wsOther, `subscription { paymentUpdated { id status } }`);
      await waitForGqlSubscriber(t, `payments:user:${user.id}`);
      await waitForGqlSubscriber(t, `payments:user:${other.id}`);
      const seen = nextEvent(socket, 'payment_update', (e: { payment: { id: string; status: string } }) => e.payment.id === p.id && e.payment.status === 'succeeded');
      let otherGot = false;
      otherSocket.on('payment_update', () => (otherGot = true));

      const o = s.stripe.byPayment(p.id);
      await postWebhook(t, 'stripe', stripeEvent('checkout.session.completed', stripeSession(o))).expect(200);
      expect((await seen).payment).toMatchObject({ amountPaid: '19.99', userId: user.id });
      expect((await sub.next()).data.paymentUpdated).toEqual({ id: p.id, status: 'succeeded', amountPaid: '19.99' });
      // The inbox notification goes through the transactional outbox (at least once, after commit), so it
      // may land a moment after the live events: wait for the outbox to deliver it rather than race it.
      const paymentNotes = async () =>
        (await http(t).get(`/api/notifications/${user.id}`).set('authorization', `Bearer ${user.token}`).expect(200)).body.items.filter(
          (n: { type: string }) => n.type === 'payment',
        );
      await eventually(async () => (await paymentNotes()).length > 0 || undefined);
      expect(await paymentNotes()).toHaveLength(1);
      // A second event for the same payment notifies nobody again: it adds no outbox entry, and once the
      // outbox has nothing pending for this payment the inbox still holds one.
      await postWebhook(t, 'stripe', stripeEvent('payment_intent.succeeded', { id: stripePi(o), amount_received: 1999, currency: 'usd', metadata: { paymentId: p.id } })).expect(200);
      const entries = await ds.query(`SELECT delivered_at FROM outbox WHERE payload->>'userId' = $1`, [user.id]);
      expect(entries).toHaveLength(1);
      await eventually(async () => {
        const pending = await ds.query(`SELECT 1 FROM outbox WHERE payload->>'userId' = $1 AND delivered_at IS NULL`, [user.id]);
        return pending.length === 0 || undefined;
      });
      expect(await paymentNotes()).toHaveLength(1);
      await expect(subOther.next(300)).rejects.toThrow(/Timed out/);
      expect(otherGot).toBe(false);
    });

    it('both Stripe events for one payment, 10 copies each at once, credit once; the credit shows in the wallet history and over GraphQL', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'stripe', '77.00').expect(201)).body;
      const o = s.stripe.byPayment(p.id);
      const a = stripeEvent('checkout.session.completed', stripeSession(o));
      const b = stripeEvent('payment_intent.succeeded', { id: stripePi(o), amount_received: 7700, currency: 'usd', metadata: { paymentId: p.id } });
      const all = await Promise.all([...Array(10).fill(a), ...Array(10).fill(b)].map((c) => postWebhook(t, 'stripe', c)));
      expect(all.every((r) => r.status === 200)).toBe(true);
      expect(await usd(t, user)).toBe('77.00');
      const history = (await http(t).get(`/api/wallet/${user.id}/transactions`).set('authorization', `Bearer ${user.token}`).expect(200)).body;
      expect(history.items.filter((x: { amount: string }) => x.amount === '77.00')).toHaveLength(1);
      const g = await gql(t, `{ payments(limit: 5) { items { id status amountPaid } nextCursor } paymentProviders { provider enabled } }`, {}, user.token).expect(200);
      expect(g.body.data.payments.items).toEqual([{ id: p.id, status: 'succeeded', amountPaid: '77.00' }]);
      expect(g.body.data.paymentProviders).toHaveLength(6);
    });

    it('a refund before the paid event, then paid, then failed: credited and taken back, ends refunded', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'stripe', '50.00').expect(201)).body;
      const o = s.stripe.byPayment(p.id);
      await postWebhook(t, 'stripe', stripeEvent('charge.refunded', { id: 'ch_x', payment_intent: stripePi(o), amount_refunded: 5000, currency: 'usd', metadata: {} })).expect(200);
      expect((await getPayment(t, user, p.id)).status).toBe('pending'); // unmatched yet: it names the PaymentIntent
      await postWebhook(t, 'stripe', stripeEvent('checkout.session.completed', stripeSession(o))).expect(200);
      await postWebhook(t, 'stripe', stripeEvent('checkout.session.async_payment_failed', { ...stripeSession(o), payment_status: 'unpaid' })).expect(200);
      expect(await getPayment(t, user, p.id)).toMatchObject({ status: 'refunded', amountPaid: '50.00', amountRefunded: '50.00' });
      expect(await usd(t, user)).toBe('0.00');
    });

    it('a paid amount that differs from the checkout is credited as reported and flagged for admins', async () => {
      const user = await registerUser(t);
      const p = (await checkout(t, user, 'stripe', '50.00').expect(201)).body;
      await postWebhook(t, 'stripe', stripeEvent('checkout.session.completed', stripeSession(s.stripe.byPayment(p.id), '45.00'))).expect(200);
      expect(await usd(t, user)).toBe('45.00');
      const seen = (await http(t).get(`/api/payments/${p.id}`).set('authorization', `Bearer ${admin.token}`).expect(200)).body;
      expect(seen).toMatchObject({ flagged: true, amountPaid: '45.00', status: 'succeeded' });
      expect(seen.flagReasons.join(' ')).toMatch(/45\.00/);
    });

    it('a dispute after the money was spent takes back what is available and flags the rest', async () => {
      const user = await registerUser(t);
      const friend = await registerUser(t);
      const p = (await checkout(t, user, 'stripe', '30.00').expect(201)).body;
      const o = s.stripe.byPayment(p.id);
      await postWebhook(t, 'stripe', stripeEvent('checkout.session.completed', stripeSession(o))).expect(200);
      await http(t).post(`/api/wallet/${user.id}/transfer`).set('authorization', `Bearer ${user.token}`).send({ toUserId: friend.id, asset: 'USD', amount: '20.00' }).expect(201);
      await postWebhook(t, 'stripe', stripeEvent('charge.dispute.created', { id: 'dp_1', payment_intent: stripePi(o), amount: 3000, currency: 'usd', metadata: {} })).expect(200);
      expect(await usd(t, user)).toBe('0.00');
      const seen = await getPayment(t, user, p.id);
      expect(seen).toMatchObject({ status: 'refunded', flagged: true });
      expect(seen.flagReasons.join(' ')).toMatch(/20\.00 USD not recovered/);
    });
  });

  describe('reconciliation', () => {
    it('settles a payment whose webhook never came, and expires an old unpaid checkout', async () => {
      const user = await registerUser(t);
      const paid = (await checkout(t, user, 'stripe', '11.00').expect(201)).body;
      const stale = (await checkout(t, user, 'paypal', '12.00').expect(201)).body;
      s.stripe.byPayment(paid.id).status = 'paid';
      await ds.query(`UPDATE payments SET created_at = now() - interval '2 hours' WHERE id = $1`, [paid.id]);
      await ds.query(`UPDATE payments SET created_at = now() - interval '3 days', expires_at = now() - interval '1 day' WHERE id = $1`, [stale.id]);
      const r = await t.app.get(PaymentsService).reconcile();
      expect(r.errors).toBe(0);
      expect((await getPayment(t, user, paid.id)).status).toBe('succeeded');
      expect((await getPayment(t, user, stale.id)).status).toBe('expired');
      expect(await usd(t, user)).toBe('11.00');
      // Running again changes nothing.
      await t.app.get(PaymentsService).reconcile();
      expect(await usd(t, user)).toBe('11.00');
      const schedulers = await t.app.get((await import('../src/core/queue/jobs.service')).JobsService).queue('payments').getJobSchedulers();
      expect(schedulers.map((j) => j.key)).toContain('payments-reconcile');
    });
  });
});
