import { getDataSourceToken } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { TEST_REDIS_URL } from './harness/env';
import { closeClients, gql, http, loginAdmin, registerUser, TestUser } from './harness/clients';
import { deposit, transfer } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { LedgerRepository } from '../src/modules/ledger/ledger.repository';
import { PasswordService } from '../src/modules/auth/password.service';

/**
 * Issue 11, points 10–13 and 15: the ledger's bounded account cache, the P2P trade chat and
 * buyer limits, bounded and cached klines, one rule for idempotency keys, and the queue
 * dashboard's constant-work Basic auth.
 */
describe('money hardening', () => {
  const env = {
    LEDGER_ACCOUNT_CACHE_SIZE: '10',
    P2P_MAX_OPEN_ESCROWS_PER_BUYER: '2',
    P2P_MAX_CANCELLATIONS_PER_DAY: '2',
    KLINES_CACHE_TTL_MS: '60000',
  };
  let t: TestApp;
  let admin: TestUser;
  let ds: DataSource;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp({ env });
    admin = await loginAdmin(t);
    ds = t.app.get(getDataSourceToken());
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    redis.disconnect();
    await closeClients();
    await t.close();
  });

  const auth = (u: TestUser) => `Bearer ${u.token}`;
  const post = (u: TestUser, path: string, body: object = {}, key?: string) => {
    const r = http(t).post(path).set('authorization', auth(u));
    if (key) r.set('idempotency-key', key);
    return r.send(body);
  };
  const funded = async (asset: string, amount: string) => {
    const u = await registerUser(t);
    await deposit(t, admin, u.id, asset, amount);
    return u;
  };

  it('keeps the ledger account-id cache bounded (LRU)', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => registerUser(t)));
    for (const u of users) await deposit(t, admin, u.id, 'USD', '1.00');
    const cache = (t.app.get(LedgerRepository) as unknown as { accountIds: { size: number } }).accountIds;
    expect(cache.size).toBeLessThanOrEqual(10);
    // Evicted accounts are read back from the database: money still moves.
    expect((await transfer(t, users[0], { toUserId: users[1].id, asset: 'USD', amount: '0.50' }).expect(201)).body.amount).toBe('0.50');
  });

  describe('idempotency keys', () => {
    const long = (prefix: string, fill: string) => (prefix + fill.repeat(200)).slice(0, 200);

    it('accepts a 200-character key on a wallet transfer, replays it, and never mixes up two long keys', async () => {
      const from = await funded('USD', '10.00');
      const to = await registerUser(t);
      const k1 = long('k'.repeat(64), 'a');
      const k2 = long('k'.repeat(64), 'b');
      const first = await transfer(t, from, { toUserId: to.id, asset: 'USD', amount: '1.00' }, k1).expect(201);
      const replay = await transfer(t, from, { toUserId: to.id, asset: 'USD', amount: '1.00' }, k1).expect(201);
      expect(replay.body.id).toBe(first.body.id);
      const second = await transfer(t, from, { toUserId: to.id, asset: 'USD', amount: '1.00' }, k2).expect(201);
      expect(second.body.id).not.toBe(first.body.id);
      await transfer(t, from, { toUserId: to.id, asset: 'USD', amount: '1.00' }, 'x'.repeat(256)).expect(400);
      // GraphQL follows the same rule.
      const g = await gql(t, 'mutation($i: TransferDto!, $k: String) { walletTransfer(input: $i, idempotencyKey: $k) { id } }', {
        i: { toUserId: to.id, asset: 'USD', amount: '1.00' },
        k: long('g'.repeat(64), 'c'),
      }, from.token);
      expect(g.body.errors).toBeUndefined();
      const bad = await gql(t, 'mutation($i: TransferDto!, $k: String) { walletTransfer(input: $i, idempotencyKey: $k) { id } }', {
        i: { toUserId: to.id, asset: 'USD', amount: '1.00' },
        k: 'bad key',
      }, from.token);
      expect(bad.body.errors[0].message).toMatch(/idempotencyKey/);
    });

    it('places two orders for two long keys sharing a 64-character prefix (no truncation collision)', async () => {
      const trader = await funded('USD', '1000.00');
      const order = { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '100.00', quantity: '0.0100' };
      const k1 = long('o'.repeat(70), '1');
      const k2 = long('o'.repeat(70), '2');
      const a = await post(trader, '/api/trading/orders', order, k1);
      expect(a.body).toMatchObject({ status: 'open' });
      const b = await post(trader, '/api/trading/orders', order, k2).expect(201);
      expect(b.body.id).not.toBe(a.body.id);
      const again = await post(trader, '/api/trading/orders', order, k1).expect(201);
      expect(again.body.id).toBe(a.body.id);
    });

    it('never answers 500 when concurrent requests with one key fail and release it', async () => {
      const from = await funded('USD', '10.00');
      const to = await registerUser(t);
      // The ledger key of this Idempotency-Key is taken (over GraphQL) with another amount, so every
      // REST attempt fails with 409 and releases its claim while the others look it up.
      const key = 'shared-key-1';
      const g = await gql(t, 'mutation($i: TransferDto!, $k: String) { walletTransfer(input: $i, idempotencyKey: $k) { id } }', {
        i: { toUserId: to.id, asset: 'USD', amount: '1.00' },
        k: key,
      }, from.token);
      expect(g.body.errors).toBeUndefined();
      const all = await Promise.all(Array.from({ length: 12 }, () => transfer(t, from, { toUserId: to.id, asset: 'USD', amount: '2.00' }, key)));
      expect(all.map((r) => r.status).filter((s) => s >= 500)).toEqual([]);
      expect(new Set(all.map((r) => r.status))).toEqual(new Set([409]));
    });
  });

  describe('P2P', () => {
    const E = '/api/crypto/p2p/escrow';
    const O = '/api/crypto/p2p/offers';

    it('makes the trade chat a system room with fixed membership', async () => {
      const seller = await funded('BTC', '1');
      const buyer = await registerUser(t);
      const stranger = await registerUser(t);
      const e = (
        await post(seller, E, { buyerId: buyer.id, asset: 'BTC', amount: '0.01', fiatCurrency: 'USD', fiatAmount: '650.00', paymentMethod: 'SEPA', paymentWindowSeconds: 900 }).expect(201)
      ).body;
      expect(e.chatRoomId).toEqual(expect.any(String));
      const room = (await http(t).get(`/api/chat/rooms/${e.chatRoomId}`).set('authorization', auth(seller)).expect(200)).body;
      expect(room).toMatchObject({ kind: 'system', createdBy: null, isPrivate: true, memberCount: 2, role: 'member' });
      await http(t).delete(`/api/chat/rooms/${e.chatRoomId}/members/${buyer.id}`).set('authorization', auth(seller)).expect(403);
      await post(seller, `/api/chat/rooms/${e.chatRoomId}/members`, { userIds: [stranger.id] }).expect(403);
      await post(buyer, `/api/chat/rooms/${e.chatRoomId}/leave`).expect(403);
      await http(t).delete(`/api/chat/rooms/${e.chatRoomId}/members/${seller.id}`).set('authorization', auth(stranger)).expect(404);
      const users = (await http(t).get(`/api/chat/rooms/${e.chatRoomId}/users`).set('authorization', auth(buyer)).expect(200)).body;
      expect(users.map((u: any) => u.userId).sort()).toEqual([seller.id, buyer.id].sort());
      // Both parties still talk in it.
      await post(buyer, `/api/chat/rooms/${e.chatRoomId}/messages`, { content: 'paying now' }).expect(201);
    });

    it('refuses confirm after the payment deadline even before the timeout job has run', async () => {
      const seller = await funded('BTC', '1');
      const buyer = await registerUser(t);
      const e = (
        await post(seller, E, { buyerId: buyer.id, asset: 'BTC', amount: '0.01', fiatCurrency: 'USD', fiatAmount: '650.00', paymentMethod: 'SEPA', paymentWindowSeconds: 900 }).expect(201)
      ).body;
      // The window ends now; its delayed job is still 15 minutes away.
      await ds.query(`UPDATE p2p_escrows SET payment_deadline = now() - interval '1 second' WHERE id = $1`, [e.id]);
      const r = await post(buyer, `${E}/${e.id}/confirm`).expect(422);
      expect(r.body.details).toMatchObject({ reason: 'payment_window_ended' });
      expect((await http(t).get(`${E}/${e.id}`).set('authorization', auth(buyer)).expect(200)).body.status).toBe('awaiting_payment');
    });

    it("limits a buyer's open escrows and cancellations a day, so nobody locks a seller's funds by repeated accepts", async () => {
      const seller = await funded('BTC', '1');
      const buyer = await registerUser(t);
      const offer = (
        await post(seller, O, { side: 'sell', asset: 'BTC', fiatCurrency: 'USD', price: '65000', minAmount: '0.0001', maxAmount: '0.5', paymentMethods: ['SEPA'], paymentWindowSeconds: 900 }).expect(201)
      ).body;
      const accept = (key?: string) => post(buyer, `${O}/${offer.id}/accept`, { amount: '0.01' }, key);
      const e1 = (await accept('acc-1').expect(201)).body;
      const e2 = (await accept().expect(201)).body;
      const third = await accept().expect(422);
      expect(third.body.details).toMatchObject({ reason: 'too_many_open_escrows', limit: 2 });
      // A replay of an earlier accept is not a new escrow and is not refused.
      expect((await accept('acc-1').expect(201)).body.id).toBe(e1.id);
      await post(buyer, `${E}/${e1.id}/cancel`).expect(200);
      await post(buyer, `${E}/${e2.id}/cancel`).expect(200);
      const again = await accept().expect(422);
      expect(again.body.details).toMatchObject({ reason: 'too_many_cancellations', limit: 2 });
      // The seller's funds are all available again.
      const [h] = await ds.query(`SELECT count(*)::int AS n FROM ledger_holds h JOIN p2p_escrows e ON e.hold_id = h.id WHERE e.seller_id = $1 AND h.status = 'pending'`, [seller.id]);
      expect(h.n).toBe(0);
    });
  });

  it('bounds public klines to the latest `limit` intervals and caches them in Redis', async () => {
    const seller = await funded('BTC', '1');
    const buyer = await funded('USD', '1000.00');
    // BTC-USD: one trade, now. Asked as of 30 days from now, it lies outside the latest 10 minutes.
    await post(seller, '/api/trading/orders', { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '200.00', quantity: '0.0100' }).expect(201);
    const fill = (await post(buyer, '/api/trading/orders', { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '200.00', quantity: '0.0100' }).expect(201)).body;
    expect(fill.status).toBe('filled');
    const later = Date.now() + 30 * 86_400_000;

    const recent = (await http(t).get(`/api/crypto/klines/BTC-USD?interval=1m&limit=10&endTime=${later}`).expect(200)).body;
    expect(recent.items).toEqual([]); // not "the last 10 candles of all history"
    const daily = (await http(t).get(`/api/crypto/klines/BTC-USD?interval=1d&limit=40&endTime=${later}`).expect(200)).body;
    expect(daily.items).toHaveLength(1);
    expect(daily.items[0]).toMatchObject({ open: '200.00', close: '200.00', trades: 1 });
    await http(t).get('/api/crypto/klines/BTC-USD?interval=1m&limit=5000').expect(400);
    await http(t).get('/api/crypto/klines/BTC-USD?interval=1m&startTime=0').expect(200);

    // Cached for KLINES_CACHE_TTL_MS: the same request is served from Redis (a newer trade shows later).
    const keys = await redis.keys(`${t.prefix}:klines:BTC-USD:1d:40:*`);
    expect(keys).toHaveLength(1);
    expect(await redis.pttl(keys[0])).toBeGreaterThan(0);
    await post(seller, '/api/trading/orders', { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '200.00', quantity: '0.0100' }).expect(201);
    await post(buyer, '/api/trading/orders', { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '200.00', quantity: '0.0100' }).expect(201);
    expect((await http(t).get(`/api/crypto/klines/BTC-USD?interval=1d&limit=40&endTime=${later}`).expect(200)).body).toEqual(daily);
  });

  it('spends a dummy password verification on unknown emails at the queue dashboard', async () => {
    const passwords = t.app.get(PasswordService);
    const spy = jest.spyOn(passwords, 'verifyDummy');
    try {
      const basic = Buffer.from('nobody-here@softchat.test:whatever-password').toString('base64');
      await http(t).get('/admin/queues').set('authorization', `Basic ${basic}`).expect(401);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});
