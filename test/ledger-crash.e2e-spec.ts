import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDatabase, dropDatabase, clearRedisPrefix, ADMIN, testDbPrefix } from './harness/app';
import { dbUrl } from './harness/env';
import { freePort, ledgerVerify, spawnApp, waitHealthy, AppProcess } from './harness/process';

/**
 * SIGKILL in the middle of a transfer storm: after a restart every invariant holds, every
 * acknowledged transfer is there, and no coin appeared or vanished.
 */
describe('ledger crash safety', () => {
  const db = `${testDbPrefix()}crash${randomBytes(3).toString('hex')}`;
  const prefix = `tc${randomBytes(4).toString('hex')}`;
  const env = {
    DATABASE_URL: dbUrl(db),
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    JWT_SECRET: 'crash-test-secret-long-enough-0123456789abcdef',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    PASSWORD_HASH_MEMORY_KIB: '1024',
    PASSWORD_HASH_ITERATIONS: '1',
    THROTTLE_LIMIT: '1000000',
    THROTTLE_REGISTER_PER_MINUTE: '100000',
    MIGRATIONS_RUN: 'false',
  };
  let app: AppProcess | undefined;

  beforeAll(async () => {
    await createDatabase(db);
  });
  afterAll(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    await dropDatabase(db);
    await clearRedisPrefix(prefix);
  });

  const post = async (url: string, path: string, body: unknown, token?: string) => {
    const r = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json().catch(() => ({}))) as any };
  };

  it('keeps every invariant when the server is killed mid-storm', async () => {
    const port = await freePort();
    app = spawnApp(env, port);
    await waitHealthy(app);
    const url = app.url;
    const admin = (await post(url, '/api/auth/login', ADMIN)).body.accessToken;
    const users: { id: string; token: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await post(url, '/api/auth/register', { username: `crash${i}`, email: `crash${i}@example.test`, password: 'password-123' });
      users.push({ id: r.body.user.id, token: r.body.accessToken });
      expect((await post(url, `/api/admin/wallet/${r.body.user.id}/deposit`, { asset: 'USD', amount: '1000.00', reference: `crash-${i}` }, admin)).status).toBe(201);
    }

    const acknowledged: string[] = [];
    let stop = false;
    let attempts = 0;
    const worker = async () => {
      while (!stop) {
        const from = users[Math.floor(Math.random() * users.length)];
        let to = users[Math.floor(Math.random() * users.length)];
        if (to === from) to = users[(users.indexOf(from) + 1) % users.length];
        attempts++;
        try {
          const r = await post(url, `/api/wallet/${from.id}/transfer`, { toUserId: to.id, asset: 'USD', amount: (1 + Math.random() * 50).toFixed(2) }, from.token);
          if (r.status === 201) acknowledged.push(r.body.id);
        } catch {
          // connection reset by the kill
        }
      }
    };
    const workers = Array.from({ length: 12 }, worker);
    // Kill once the storm is well under way.
    while (acknowledged.length < 60) await new Promise((r) => setTimeout(r, 20));
    app.child.kill('SIGKILL');
    await app.exited;
    stop = true;
    await Promise.all(workers);
    expect(attempts).toBeGreaterThan(acknowledged.length);

    // Straight after the crash, before any restart: the database is consistent.
    const report = ledgerVerify(dbUrl(db));
    expect(report.output).toContain('All invariants hold');
    expect(report.status).toBe(0);

    const c = new Client({ connectionString: dbUrl(db) });
    await c.connect();
    try {
      const found = await c.query(`SELECT count(*)::int AS n FROM ledger_transfers WHERE id = ANY($1)`, [acknowledged]);
      expect(found.rows[0].n).toBe(acknowledged.length);
      const sum = await c.query(`SELECT sum(posted)::text AS s FROM ledger_accounts WHERE user_id IS NOT NULL AND asset = 'USD'`);
      expect(sum.rows[0].s).toBe('600000');
    } finally {
      await c.end();
    }

    // The restarted server carries on from the same state.
    app = spawnApp(env, port);
    await waitHealthy(app);
    const [a, b] = users;
    const token = (await post(url, '/api/auth/login', { email: 'crash0@example.test', password: 'password-123' })).body.accessToken;
    const after = await post(url, `/api/wallet/${a.id}/transfer`, { toUserId: b.id, asset: 'USD', amount: '0.01' }, token);
    expect(after.status).toBe(201);
    expect(ledgerVerify(dbUrl(db)).status).toBe(0);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 120_000);
});
