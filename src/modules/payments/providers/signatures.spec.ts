import { createHmac } from 'node:crypto';
import { BitpayProvider } from './bitpay.provider';
import { CoinbaseCommerceProvider } from './coinbase-commerce.provider';
import { CoinpaymentsProvider } from './coinpayments.provider';
import { FlutterwaveProvider } from './flutterwave.provider';
import { toMinor, WebhookRejected } from './provider';
import { StripeProvider } from './stripe.provider';

/** Each provider's webhook signature scheme, spelled out (no network: these schemes are local HMACs). */
describe('webhook signature schemes', () => {
  const hmac = (algo: string, key: string, body: string, enc: 'hex' | 'base64' = 'hex') => createHmac(algo, key).update(body).digest(enc);
  const buf = (s: string) => Buffer.from(s);

  it('Stripe: t=<unix>,v1=HMAC-SHA256("<t>.<body>"); a stale timestamp or a changed body is refused', async () => {
    const p = new StripeProvider({ secretKey: 'sk_test_x', webhookSecret: 'whsec_x', apiBase: 'https://api.stripe.com' }, 1000);
    const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1', amount_received: 1234, currency: 'usd', metadata: { paymentId: 'p1' } } } });
    const sign = (t: number, b = body) => `t=${t},v1=${hmac('sha256', 'whsec_x', `${t}.${b}`)}`;
    const now = Math.floor(Date.now() / 1000);
    await expect(p.verifyAndParseWebhook(buf(body), { 'stripe-signature': sign(now) })).resolves.toMatchObject({ kind: 'paid', amountMinor: 1234n, paymentRef: 'pi_1', paymentId: 'p1' });
    await expect(p.verifyAndParseWebhook(buf(body), { 'stripe-signature': sign(now - 3600) })).rejects.toBeInstanceOf(WebhookRejected);
    await expect(p.verifyAndParseWebhook(buf(body.replace('1234', '9999')), { 'stripe-signature': sign(now) })).rejects.toBeInstanceOf(WebhookRejected);
    await expect(p.verifyAndParseWebhook(buf(body), {})).rejects.toBeInstanceOf(WebhookRejected);
  });

  it('Coinbase Commerce: X-CC-Webhook-Signature = hex HMAC-SHA256(raw body, shared secret)', async () => {
    const p = new CoinbaseCommerceProvider({ apiKey: 'k', webhookSecret: 'cc', apiBase: 'x' }, 1000);
    const body = JSON.stringify({ event: { id: 'e1', type: 'charge:confirmed', data: { id: 'c1', metadata: {}, timeline: [{ status: 'COMPLETED' }], pricing: { local: { amount: '5.00' } } } } });
    await expect(p.verifyAndParseWebhook(buf(body), { 'x-cc-webhook-signature': hmac('sha256', 'cc', body) })).resolves.toMatchObject({ kind: 'paid', amountMinor: 500n, providerRef: 'c1' });
    await expect(p.verifyAndParseWebhook(buf(body), { 'x-cc-webhook-signature': hmac('sha256', 'other', body) })).rejects.toBeInstanceOf(WebhookRejected);
  });

  it('BitPay: x-signature = base64 HMAC-SHA256(raw body, webhook secret)', async () => {
    const p = new BitpayProvider({ token: 't', webhookSecret: 'bp', apiBase: 'x' }, 1000);
    const body = JSON.stringify({ event: { code: 1005, name: 'invoice_confirmed' }, data: { id: 'inv1', status: 'confirmed', price: 12.5, currency: 'USD', orderId: 'p1' } });
    await expect(p.verifyAndParseWebhook(buf(body), { 'x-signature': hmac('sha256', 'bp', body, 'base64') })).resolves.toMatchObject({ kind: 'paid', amountMinor: 1250n, providerRef: 'inv1' });
    await expect(p.verifyAndParseWebhook(buf(body), { 'x-signature': hmac('sha256', 'bp', body, 'hex') })).rejects.toBeInstanceOf(WebhookRejected);
  });

  it('CoinPayments: HMAC = hex HMAC-SHA512(raw form body, IPN secret), and the merchant must be ours', async () => {
    const p = new CoinpaymentsProvider({ publicKey: 'a', privateKey: 'b', merchantId: 'm1', ipnSecret: 'ipn', coin: 'BTC', apiBase: 'x' }, 1000);
    const body = 'ipn_version=1.0&ipn_type=api&ipn_mode=hmac&ipn_id=i1&merchant=m1&txn_id=T1&status=100&currency1=USD&amount1=7.5';
    await expect(p.verifyAndParseWebhook(buf(body), { hmac: hmac('sha512', 'ipn', body) })).resolves.toMatchObject({ kind: 'paid', amountMinor: 750n, providerRef: 'T1' });
    const other = body.replace('merchant=m1', 'merchant=m2');
    await expect(p.verifyAndParseWebhook(buf(other), { hmac: hmac('sha512', 'ipn', other) })).rejects.toBeInstanceOf(WebhookRejected);
    await expect(p.verifyAndParseWebhook(buf(body), { hmac: hmac('sha512', 'b', body) })).rejects.toBeInstanceOf(WebhookRejected);
  });

  it('Flutterwave: verif-hash must equal the secret hash', async () => {
    const p = new FlutterwaveProvider({ secretKey: 's', webhookHash: 'h', apiBase: 'x' }, 1000);
    const body = JSON.stringify({ event: 'charge.completed', data: { id: 1, tx_ref: 'p1', status: 'pending' } });
    await expect(p.verifyAndParseWebhook(buf(body), { 'verif-hash': 'h' })).resolves.toMatchObject({ kind: 'pending', providerRef: 'p1' });
    await expect(p.verifyAndParseWebhook(buf(body), { 'verif-hash': 'H' })).rejects.toBeInstanceOf(WebhookRejected);
  });

  it('reads provider amounts exactly', () => {
    expect(toMinor('25.00')).toBe(2500n);
    expect(toMinor(12.5)).toBe(1250n);
    expect(toMinor('0.1')).toBe(10n);
    expect(toMinor('1.005')).toBeNull();
    expect(toMinor('1.000')).toBe(100n);
    expect(toMinor('-1')).toBeNull();
    expect(toMinor(undefined)).toBeNull();
  });
});
