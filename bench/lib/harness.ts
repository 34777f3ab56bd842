/**
 * Shared benchmark plumbing: a fresh database, the built app started as a real process on a
 * loopback port, and helpers to register users. Loopback only; every run is bounded in time.
 */
import { ChildProcess, spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

export const ROOT = resolve(__dirname, '..', '..');
export const PG_ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN = { email: 'bench-admin@softchat.test', password: 'bench-admin-password' };

export function dbUrl(name: string) {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function adminQuery(sql: string) {
  const c = new Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export interface RunningApp {
  url: string;
  db: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the app (src/main.ts, transpiled on load: same runtime code as the build) on a fresh database. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const db = `softchat_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${db}"`);
  const port = await freePort();
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []), '-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl(db),
      DATABASE_POOL_SIZE: '16',
      REDIS_URL,
      REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}`,
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      PASSWORD_HASH_MEMORY_KIB: '1024',
      PASSWORD_HASH_ITERATIONS: '1',
      THROTTLE_LIMIT: '10000000',
      THROTTLE_REGISTER_PER_MINUTE: '1000000',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
      SERVE_CLIENT: 'false',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) break;
    } catch {
      /* starting */
    }
    if (Date.now() > deadline) throw new Error('app did not become healthy in 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    db,
    child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      }
      await adminQuery(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    },
  };
}

export async function api<T = any>(url: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const r = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${text}`);
  return text ? JSON.parse(text) : (undefined as T);
}

export interface BenchUser {
  id: string;
  token: string;
}

export async function registerUsers(url: string, n: number, tag: string): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${tag}${i}_${randomBytes(2).toString('hex')}`;
    const res = await api(url, 'POST', '/api/auth/register', { username: name, email: `${name}@bench.test`, password: 'bench-password-1' });
    users.push({ id: res.user.id, token: res.accessToken });
  }
  return users;
}

export async function adminToken(url: string): Promise<string> {
  return (await api(url, 'POST', '/api/auth/login', ADMIN)).accessToken;
}

export function machine() {
  const cpu = cpus();
  let pg = '';
  try {
    pg = execFileSync('psql', ['--version']).toString().trim();
  } catch {
    /* unknown */
  }
  return `${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${pg}`;
}
