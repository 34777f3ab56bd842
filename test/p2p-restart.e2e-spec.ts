import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import Redis from 'ioredis';
import { createDatabase, dropDatabase, clearRedisPrefix, ADMIN, testDbPrefix } from './harness/app';
import { dbUrl, TEST_REDIS_URL } from './harness/env';
import { eventually } from './harness/clients';
import { freePort, ledgerVerify, spawnApp, waitHealthy, AppProcess } from './harness/process';

/**
 * Windows that end while the app is down are honoured when it comes back: the real server runs
 * as a process, is killed (SIGKILL), its delayed jobs are wiped from Redis too (the database is
 * the truth), the windows pass, and after a restart the start-up sweep cancels the unpaid
 * escrow (seller refunded), disputes the unreleased one, and re-schedules the open one.
 */
describe('P2P windows across a restart', () => {
  const db = `${testDbPrefix()}p2prestart${randomBytes(3).toString('hex')}`;
  const prefix = `tp${randomBytes(4).toString('hex')}`;
  const env = {
    DATABASE_URL: dbUrl(db),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: 'p2p-restart-secret-long-enough-0123456789abcdef',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    PASSWORD_HASH_MEMORY_KIB: '1024',
    PASSWORD_HASH_ITERATIONS: '1',
    THROTTLE_REGISTER_PER_MINUTE: '100000',
    MIGRATIONS_RUN: 'false',
    P2P_MIN_PAYMENT_WINDOW_SECONDS: '1',
    P2P_RELEASE_WINDOW_SECONDS: '3',
    P2P_FEE_BPS: '50',
  };
  let app: AppProcess | undefined;
  let pg: Client;

  beforeAll(async () => {
    await createDatabase(db);
    pg = new Client({ connectionString: dbUrl(db) });
    await pg.connect();
  });
  afterAll(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    await pg.end();
    await dropDatabase(db);
    await clearRedisPrefix(prefix);
  });

  const call = async (method: string, url: string, path: string, body?: unknown, token?: string) => {
    const r = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json().catch(() => ({}))) as any };
  };
  const status = async (id: string) => (await pg.query(`SELECT status, cancel_reason FROM p2p_escrows WHERE id = $1`, [id])).rows[0];
  const account = async (userId: string) =>
    (await pg.query(`SELECT posted::text, held::text FROM ledger_accounts WHERE user_id = $1 AND asset = 'BTC'`, [userId])).rows[0];

  it('cancels and refunds, and disputes, what came due while the app was down', async () => {
    const port = await freePort();
    app = spawnApp(env, port);
    await waitHealthy(app);
    const url = app.url;
    const adminToken = (await call('POST', url, '/api/auth/login', ADMIN)).body.accessToken;
    const reg = async (name: string) => {
      const r = await call('POST', url, '/api/auth/register', { username: name, email: `${name}@example.test`, password: 'password-123' });
      expect(r.status).toBe(201);
      return { id: r.body.user.id as string, token: r.body.accessToken as string };
    };
    const seller = await reg('p2pseller');
    const buyer = await reg('p2pbuyer');
    expect((await call('POST', url, `/api/admin/wallet/${seller.id}/deposit`, { asset: 'BTC', amount: '1', reference: 'p2p-restart' }, adminToken)).status).toBe(201);
    const open = async (windowSeconds: number) => {
      const r = await call(
        'POST',
        url,
        '/api/crypto/p2p/escrow',
        { buyerId: buyer.id, asset: 'BTC', amount: '0.1', fiatCurrency: 'USD', fiatAmount: '6500.00', paymentMethod: 'SEPA', paymentWindowSeconds: windowSeconds },
        seller.token,
      );
      expect(r.status).toBe(201);
      return r.body;
    };
    const unpaid = await open(4); // its payment window ends while the app is down
    const paid = await open(600);
    expect((await call('POST', url, `/api/crypto/p2p/escrow/${paid.id}/confirm`, {}, buyer.token)).status).toBe(200); // release window: 3 s
    const pending = await open(600); // still open after the restart
    // 0.1 + 0.5 % fee held three times.
    expect(await account(seller.id)).toEqual({ posted: '100000000', held: '30150000' });

    // Crash, and lose the delayed jobs with it.
    app.child.kill('SIGKILL');
    await app.exited;
    const redis = new Redis(TEST_REDIS_URL);
    try {
      let cursor = '0';
      let deleted = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:bull:p2p:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) deleted += await redis.del(...keys);
      } while (cursor !== '0');
      expect(deleted).toBeGreaterThan(0);

      // Both windows pass with nobody running.
      const latest = Math.max(Date.parse(unpaid.paymentDeadline), Date.now() + 3000);
      await new Promise((r) => setTimeout(r, latest - Date.now() + 1000));
      expect(await status(unpaid.id)).toEqual({ status: 'awaiting_payment', cancel_reason: null });
      expect(await status(paid.id)).toEqual({ status: 'paid', cancel_reason: null });

      // Back up: the start-up sweep applies what is due and re-schedules what is open.
      app = spawnApp(env, port);
      await waitHealthy(app);
      await eventually(async () => (await status(unpaid.id)).status === 'cancelled' && (await status(paid.id)).status === 'disputed', { timeoutMs: 20_000, intervalMs: 100 });
      expect(await status(unpaid.id)).toEqual({ status: 'cancelled', cancel_reason: 'payment_timeout' });
      const dispute = (await pg.query(`SELECT opened_by, opened_by_role, seal_hash FROM p2p_disputes WHERE escrow_id = $1`, [paid.id])).rows[0];
      expect(dispute).toMatchObject({ opened_by: null, opened_by_role: 'system', seal_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(await status(pending.id)).toEqual({ status: 'awaiting_payment', cancel_reason: null });
      expect(await redis.exists(`${prefix}:bull:p2p:p2p-pay-${pending.id}`)).toBe(1);
      // The unpaid escrow's hold is gone (seller refunded); the other two stay held.
      expect(await account(seller.id)).toEqual({ posted: '100000000', held: '20100000' });
      const seen = await call('GET', url, `/api/crypto/p2p/escrow/${unpaid.id}`, undefined, seller.token);
      expect(seen.body).toMatchObject({ status: 'cancelled', cancelReason: 'payment_timeout' });
      const wallet = await call('GET', url, `/api/wallet/${seller.id}/balance`, undefined, seller.token);
      expect(wallet.body.balances.find((b: any) => b.asset === 'BTC')).toEqual({ asset: 'BTC', available: '0.79900000', held: '0.20100000', total: '1.00000000' });
      // Both parties were told.
      const notes = await pg.query(`SELECT user_id FROM notifications WHERE dedupe_key = $1 ORDER BY user_id`, [`p2p:${unpaid.id}:cancelled`]);
      expect(notes.rows.map((r) => r.user_id)).toEqual([seller.id, buyer.id].sort());
    } finally {
      redis.disconnect();
    }

    const report = ledgerVerify(dbUrl(db));
    expect(report.output).toContain('All invariants hold');
    expect(report.status).toBe(0);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 120_000);
});
