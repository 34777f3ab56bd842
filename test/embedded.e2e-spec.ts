import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';

/**
 * The embedded default: with no DATABASE_URL the app starts on PGlite under DATA_DIR, keeps
 * the data across restarts, and with no REDIS_URL uses the local Redis. Run as a real process,
 * exactly like `npm start`.
 */
const ROOT = resolve(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

function startApp(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let out = '';
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(DATABASE_URL|REDIS_URL|JWT_SECRET|NODE_ENV|PORT|DATA_DIR|ADMIN_.*|JEST_.*)$/.test(k)) clean[k] = v;
  }
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...clean, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitHealthy(base: string, proc: { output: () => string; exited: Promise<number | null> }, timeoutMs = 60_000) {
  let done = false;
  proc.exited.then(() => (done = true));
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (done) throw new Error(`app exited early:\n${proc.output()}`);
    try {
      const res = await request(base).get('/api/health');
      if (res.status === 200) return res;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`app not healthy in time:\n${proc.output()}`);
}

describe('embedded default (no DATABASE_URL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'softchat-embedded-'));
  const prefix = `emb${randomBytes(4).toString('hex')}`;
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on PGlite, answers health, and keeps a registered user across a restart', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, REDIS_PREFIX: prefix };

    const first = startApp(env);
    let firstToken = '';
    try {
      const health = await waitHealthy(base, first);
      expect(health.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } });
      const reg = await request(base)
        .post('/api/auth/register')
        .send({ username: 'embedded', email: 'embedded@example.test', password: 'password-123' })
        .expect(201);
      firstToken = reg.body.accessToken;
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);

    const second = startApp(env);
    try {
      await waitHealthy(base, second);
      const login = await request(base).post('/api/auth/login').send({ email: 'embedded@example.test', password: 'password-123' }).expect(200);
      expect(login.body.user.username).toBe('embedded');
      await request(base).get('/api/auth/me').set('authorization', `Bearer ${login.body.accessToken}`).expect(200);
      // The generated development JWT secret was kept too: the first run's token still works.
      await request(base).get('/api/auth/me').set('authorization', `Bearer ${firstToken}`).expect(200);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('refuses to start in production without real URLs and a JWT secret, naming them', async () => {
    const p = startApp({ NODE_ENV: 'production', DATA_DIR: dataDir });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('DATABASE_URL is required');
    expect(p.output()).toContain('JWT_SECRET is required');
    expect(p.output()).toContain('BTC_XPUB is required');
    expect(p.output()).toContain('ETH_XPUB is required');
  }, 60_000);
});
