/**
 * Local stand-ins of the six payment providers' APIs (tiny `http.createServer`s started by a
 * test and reached through `<PROVIDER>_API_BASE`), and webhook signers using each provider's
 * real signature scheme. Each stand-in keeps what was created, lets a test set a remote status
 * (for reconciliation), and can be told to fail (for provider-failure paths).
 */
import { createHmac, createSign, createVerify, generateKeyPairSync, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { cents, dollars, form, path, RemoteObject, Standin, start } from './standin-server';
import { crc32 } from 'node:zlib';

export type { RemoteObject, RemoteStatus, Standin } from './standin-server';

// ------------------------------------------------------------------ secrets

export const SECRETS = {
  stripe: { STRIPE_SECRET_KEY: 'sk_test_standin', STRIPE_WEBHOOK_SECRET: 'whsec_standin_secret' },
  paypal: { PAYPAL_CLIENT_ID: 'pp-client', PAYPAL_CLIENT_SECRET: 'pp-secret', PAYPAL_WEBHOOK_ID: 'WH-STANDIN-1' },
  flutterwave: { FLUTTERWAVE_SECRET_KEY: 'FLWSECK_TEST-standin', FLUTTERWAVE_WEBHOOK_HASH: 'flw-secret-hash' },
  coinbase_commerce: { COINBASE_COMMERCE_API_KEY: 'cc-api-key', COINBASE_COMMERCE_WEBHOOK_SECRET: 'cc-webhook-secret' },
  bitpay: { BITPAY_TOKEN: 'bitpay-pos-token', BITPAY_WEBHOOK_SECRET: 'bitpay-webhook-secret' },
  coinpayments: { COINPAYMENTS_PUBLIC_KEY: 'cp-public', COINPAYMENTS_PRIVATE_KEY: 'cp-private', COINPAYMENTS_MERCHANT_ID: 'cp-merchant-1', COINPAYMENTS_IPN_SECRET: 'cp-ipn-secret' },
};

// ------------------------------------------------------------------ Stripe

export function startStripe(): Promise<Standin> {
  return start((req, body, s) => {
    if (req.headers.authorization !== `Bearer ${SECRETS.stripe.STRIPE_SECRET_KEY}`) return { status: 401, json: { error: { message: 'bad key', type: 'invalid_request_error' } } };
    const p = path(req);
    if (req.method === 'POST' && p === '/v1/checkout/sessions') {
      const f = form(body);
      const id = `cs_test_${randomBytes(8).toString('hex')}`;
      const amount = Number(f['line_items[0][price_data][unit_amount]']);
      const paymentId = f['metadata[paymentId]'];
      const o: RemoteObject = { id, paymentId, amount: dollars(amount), status: 'pending', body: f };
      s.objects.set(id, o);
      return { json: sessionJson(o) };
    }
    const m = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(p);
    if (req.method === 'GET' && m && s.objects.has(m[1])) return { json: sessionJson(s.objects.get(m[1])!) };
    return null;
  });
}

export const stripePi = (o: RemoteObject) => `pi_${o.id.slice(8)}`;

function sessionJson(o: RemoteObject) {
  return {
    id: o.id,
    object: 'checkout.session',
    url: `https://checkout.stripe.test/c/pay/${o.id}`,
    amount_total: cents(o.amount),
    currency: 'usd',
    client_secret: null,
    payment_intent: o.status === 'paid' ? stripePi(o) : null,
    payment_status: o.status === 'paid' ? 'paid' : 'unpaid',
    status: o.status === 'expired' ? 'expired' : o.status === 'paid' ? 'complete' : 'open',
    metadata: { paymentId: o.paymentId },
  };
}

/** `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export function stripeSign(body: string, secret = SECRETS.stripe.STRIPE_WEBHOOK_SECRET, t = Math.floor(Date.now() / 1000)) {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

// ------------------------------------------------------------------ PayPal

/** The key PayPal signs webhooks with in these tests; the stand-in's verify call checks against it. */
const paypalKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

export function startPaypal(): Promise<Standin> {
  const token = `A21AA-${randomBytes(6).toString('hex')}`;
  return start((req, body, s) => {
    const p = path(req);
    if (req.method === 'POST' && p === '/v1/oauth2/token') {
      const basic = Buffer.from(`${SECRETS.paypal.PAYPAL_CLIENT_ID}:${SECRETS.paypal.PAYPAL_CLIENT_SECRET}`).toString('base64');
      if (req.headers.authorization !== `Basic ${basic}` || body !== 'grant_type=client_credentials') return { status: 401, json: { error: 'invalid_client' } };
      return { json: { access_token: token, token_type: 'Bearer', expires_in: 32400 } };
    }
    if (req.headers.authorization !== `Bearer ${token}`) return { status: 401, json: { name: 'AUTHENTICATION_FAILURE' } };
    if (req.method === 'POST' && p === '/v2/checkout/orders') {
      const b = JSON.parse(body);
      const pu = b.purchase_units[0];
      const id = randomBytes(8).toString('hex').toUpperCase();
      const o: RemoteObject = { id, paymentId: pu.custom_id, amount: pu.amount.value, status: 'pending', body: b };
      s.objects.set(id, o);
      return { status: 201, json: { id, status: 'CREATED', links: [{ rel: 'approve', href: `https://www.sandbox.paypal.test/checkoutnow?token=${id}` }] } };
    }
    if (req.method === 'POST' && p === '/v1/notifications/verify-webhook-signature') {
      // PayPal's scheme: RSA-SHA256 over "<transmission id>|<time>|<webhook id>|<crc32 of the raw event>".
      const b = JSON.parse(body);
      const marker = '"webhook_event":';
      const raw = body.slice(body.indexOf(marker) + marker.length, -1);
      const signed = `${b.transmission_id}|${b.transmission_time}|${b.webhook_id}|${crc32(Buffer.from(raw))}`;
      const ok =
        b.webhook_id === SECRETS.paypal.PAYPAL_WEBHOOK_ID &&
        b.auth_algo === 'SHA256withRSA' &&
        createVerify('RSA-SHA256').update(signed).verify(paypalKeys.publicKey, b.transmission_sig, 'base64');
      return { json: { verification_status: ok ? 'SUCCESS' : 'FAILURE' } };
    }
    const m = /^\/v2\/checkout\/orders\/([^/]+)(\/capture)?$/.exec(p);
    if (m && s.objects.has(m[1])) {
      const o = s.objects.get(m[1])!;
      if (m[2] && req.method === 'POST') o.status = 'paid';
      return { json: paypalOrder(o, !!m[2]) };
    }
    return null;
  });
}

export const paypalCapture = (o: RemoteObject) => `CAP-${o.id}`;

function paypalOrder(o: RemoteObject, captured: boolean) {
  const approved = o.body.approved && !captured && o.status !== 'paid';
  return {
    id: o.id,
    status: o.status === 'paid' ? 'COMPLETED' : approved ? 'APPROVED' : 'CREATED',
    purchase_units: [
      {
        custom_id: o.paymentId,
        payments: o.status === 'paid' ? { captures: [{ id: paypalCapture(o), status: 'COMPLETED', amount: { value: o.amount, currency_code: 'USD' } }] } : undefined,
      },
    ],
  };
}

export function paypalHeaders(body: string, opts: { webhookId?: string } = {}) {
  const id = randomUUID();
  const time = new Date().toISOString();
  const signed = `${id}|${time}|${opts.webhookId ?? SECRETS.paypal.PAYPAL_WEBHOOK_ID}|${crc32(Buffer.from(body))}`;
  return {
    'paypal-auth-algo': 'SHA256withRSA',
    'paypal-cert-url': 'https://api.sandbox.paypal.test/v1/notifications/certs/CERT-standin',
    'paypal-transmission-id': id,
    'paypal-transmission-time': time,
    'paypal-transmission-sig': createSign('RSA-SHA256').update(signed).sign(paypalKeys.privateKey, 'base64'),
  };
}

// ------------------------------------------------------------------ Flutterwave

export const flwTx = (o: RemoteObject) => Number(o.id);

export function startFlutterwave(): Promise<Standin> {
  return start((req, body, s) => {
    if (req.headers.authorization !== `Bearer ${SECRETS.flutterwave.FLUTTERWAVE_SECRET_KEY}`) return { status: 401, json: { status: 'error', message: 'Invalid authorization key' } };
    const p = path(req);
    if (req.method === 'POST' && p === '/v3/payments') {
      const b = JSON.parse(body);
      const o: RemoteObject = { id: String(100_000_000 + randomInt(899_999_999)), paymentId: b.tx_ref, amount: b.amount, status: 'pending', body: b };
      s.objects.set(String(flwTx(o)), o);
      return { json: { status: 'success', message: 'Hosted Link', data: { link: `https://checkout.flutterwave.test/v3/hosted/pay/${o.id}` } } };
    }
    const tx = (o: RemoteObject) => ({ id: flwTx(o), tx_ref: o.paymentId, amount: Number(o.body.paidAmount ?? o.amount), currency: 'USD', status: o.status === 'paid' ? 'successful' : 'pending' });
    const m = /^\/v3\/transactions\/(\d+)\/verify$/.exec(p);
    if (req.method === 'GET' && m && s.objects.has(m[1])) return { json: { status: 'success', data: tx(s.objects.get(m[1])!) } };
    if (req.method === 'GET' && p === '/v3/transactions/verify_by_reference') {
      const ref = new URL(req.url!, 'http://x').searchParams.get('tx_ref');
      const o = [...s.objects.values()].find((x) => x.paymentId === ref);
      return o ? { json: { status: 'success', data: tx(o) } } : { status: 404, json: { status: 'error', message: 'No transaction was found for this id' } };
    }
    return null;
  });
}

// ------------------------------------------------------------------ Coinbase Commerce

export function startCoinbase(): Promise<Standin> {
  return start((req, body, s) => {
    if (req.headers['x-cc-api-key'] !== SECRETS.coinbase_commerce.COINBASE_COMMERCE_API_KEY || !req.headers['x-cc-version']) return { status: 401, json: { error: { type: 'authorization_error' } } };
    const p = path(req);
    if (req.method === 'POST' && p === '/charges') {
      const b = JSON.parse(body);
      const id = randomUUID();
      const o: RemoteObject = { id, paymentId: b.metadata.paymentId, amount: b.local_price.amount, status: 'pending', body: b };
      s.objects.set(id, o);
      return { status: 201, json: { data: coinbaseCharge(o) } };
    }
    const m = /^\/charges\/([^/]+)$/.exec(p);
    if (req.method === 'GET' && m && s.objects.has(m[1])) return { json: { data: coinbaseCharge(s.objects.get(m[1])!) } };
    return null;
  });
}

export function coinbaseCharge(o: RemoteObject, timeline: string[] = o.status === 'paid' ? ['NEW', 'PENDING', 'COMPLETED'] : o.status === 'expired' ? ['NEW', 'EXPIRED'] : ['NEW'], paid = o.amount) {
  const done = timeline.includes('COMPLETED');
  return {
    id: o.id,
    code: o.id.slice(0, 8).toUpperCase(),
    hosted_url: `https://commerce.coinbase.test/pay/${o.id}`,
    pricing: { local: { amount: o.amount, currency: 'USD' } },
    metadata: { paymentId: o.paymentId },
    timeline: timeline.map((status) => ({ status, time: new Date().toISOString() })),
    payments: timeline.includes('PENDING') ? [{ status: done ? 'CONFIRMED' : 'PENDING', value: { local: { amount: paid, currency: 'USD' }, crypto: { amount: '0.001', currency: 'BTC' } } }] : [],
  };
}

export const coinbaseSign = (body: string, secret = SECRETS.coinbase_commerce.COINBASE_COMMERCE_WEBHOOK_SECRET) => createHmac('sha256', secret).update(body).digest('hex');

// ------------------------------------------------------------------ BitPay

export function startBitpay(): Promise<Standin> {
  return start((req, body, s) => {
    const p = path(req);
    if (req.headers['x-accept-version'] !== '2.0.0') return { status: 400, json: { status: 'error', error: 'x-accept-version required' } };
    if (req.method === 'POST' && p === '/invoices') {
      const b = JSON.parse(body);
      if (b.token !== SECRETS.bitpay.BITPAY_TOKEN) return { status: 401, json: { status: 'error', error: 'bad token' } };
      const id = randomBytes(11).toString('base64url');
      const o: RemoteObject = { id, paymentId: b.orderId, amount: Number(b.price).toFixed(2), status: 'pending', body: b };
      s.objects.set(id, o);
      return { json: { data: bitpayInvoice(o) } };
    }
    const m = /^\/invoices\/([^/]+)$/.exec(p);
    if (req.method === 'GET' && m && s.objects.has(m[1])) return { json: { data: bitpayInvoice(s.objects.get(m[1])!) } };
    return null;
  });
}

export function bitpayInvoice(o: RemoteObject, status = o.status === 'paid' ? 'confirmed' : o.status === 'expired' ? 'expired' : 'new') {
  return { id: o.id, url: `https://test.bitpay.test/invoice?id=${o.id}`, status, price: Number(o.amount), currency: 'USD', orderId: o.paymentId };
}

export const bitpaySign = (body: string, secret = SECRETS.bitpay.BITPAY_WEBHOOK_SECRET) => createHmac('sha256', secret).update(body).digest('base64');

// ------------------------------------------------------------------ CoinPayments

export function startCoinpayments(): Promise<Standin> {
  return start((req, body, s) => {
    if (req.method !== 'POST' || path(req) !== '/api.php') return null;
    const expected = createHmac('sha512', SECRETS.coinpayments.COINPAYMENTS_PRIVATE_KEY).update(body).digest('hex');
    const f = form(body);
    if (req.headers.hmac !== expected || f.key !== SECRETS.coinpayments.COINPAYMENTS_PUBLIC_KEY) return { json: { error: 'HMAC signature does not match' } };
    if (f.cmd === 'create_transaction') {
      const id = `CP${randomBytes(8).toString('hex').toUpperCase()}`;
      const o: RemoteObject = { id, paymentId: f.custom, amount: f.amount, status: 'pending', body: f };
      s.objects.set(id, o);
      return { json: { error: 'ok', result: { txn_id: id, amount: '0.00042', address: 'tb1qstandin', checkout_url: `https://www.coinpayments.test/index.php?cmd=checkout&id=${id}`, status_url: `https://www.coinpayments.test/index.php?cmd=status&id=${id}` } } };
    }
    if (f.cmd === 'get_tx_info' && s.objects.has(f.txid)) {
      const o = s.objects.get(f.txid)!;
      return { json: { error: 'ok', result: { status: o.status === 'paid' ? 100 : o.status === 'expired' ? -1 : 0, status_text: o.status, amountf: '0.00042' } } };
    }
    return { json: { error: 'unknown command' } };
  });
}

export function coinpaymentsIpn(o: RemoteObject, status: number, extra: Record<string, string> = {}) {
  return new URLSearchParams({
    ipn_version: '1.0',
    ipn_type: 'api',
    ipn_mode: 'hmac',
    ipn_id: randomBytes(16).toString('hex'),
    merchant: SECRETS.coinpayments.COINPAYMENTS_MERCHANT_ID,
    txn_id: o.id,
    status: String(status),
    status_text: status >= 100 ? 'Complete' : 'Waiting for buyer funds...',
    currency1: 'USD',
    currency2: 'BTC',
    amount1: o.amount,
    amount2: '0.00042',
    custom: o.paymentId,
    ...extra,
  }).toString();
}

export const coinpaymentsSign = (body: string, secret = SECRETS.coinpayments.COINPAYMENTS_IPN_SECRET) => createHmac('sha512', secret).update(body).digest('hex');

// ------------------------------------------------------------------ all of them

export interface Standins {
  stripe: Standin;
  paypal: Standin;
  flutterwave: Standin;
  coinbase_commerce: Standin;
  bitpay: Standin;
  coinpayments: Standin;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the stand-ins for `which` and returns the app environment pointing at them. */
export async function startStandins(which: (keyof typeof SECRETS)[]): Promise<Standins> {
  const starters = { stripe: startStripe, paypal: startPaypal, flutterwave: startFlutterwave, coinbase_commerce: startCoinbase, bitpay: startBitpay, coinpayments: startCoinpayments };
  const out: Partial<Standins> = {};
  const env: Record<string, string> = {};
  for (const name of which) {
    const s = await starters[name]();
    (out as Record<string, Standin>)[name] = s;
    Object.assign(env, SECRETS[name], { [`${name.toUpperCase()}_API_BASE`]: s.url });
  }
  return {
    ...(out as Standins),
    env,
    close: async () => {
      await Promise.all(which.map((n) => (out as Record<string, Standin>)[n].close()));
    },
  };
}
