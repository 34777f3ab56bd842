/**
 * Shared benchmark plumbing: a fresh database, the built app started as a real process on a
 * loopback port, and helpers to register users. Loopback only; every run is bounded in time.
 *
 * The app runs as a user runs it: `node <build>/main.js` from the transpiled build (bench/lib/build.js,
 * the layout of `nest build`'s dist/), with NO extra node flags: the entry sets its own. BENCH_NODE_ARGS
 * may add some (profiling: `--cpu-prof`, `--inspect=127.0.0.1:0`). The app's environment can be changed
 * for a before/after in one run: the lever switches below are passed through when set, and
 * BENCH_APP_ENV="KEY=VALUE KEY2=VALUE2" or `--env KEY=VALUE` (repeatable) set anything else.
 */
import { ChildProcess, spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { appEnvOverrides } from './app-env';
import { killTree, treePids } from './procs';
import { benchXpubs } from './xpub';

export { appEnvOverrides } from './app-env';
export { treePids, treeRssKiB, treeCpuMs } from './procs';

export const ROOT = process.env.BENCH_REPO ?? resolve(__dirname, '..', '..');
export const PG_ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN = { email: 'bench-admin@softchat.test', password: 'bench-admin-password' };

/** The build directory (bench/lib/build.js; reused when the sources did not change). */
export function buildDir(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(join(ROOT, 'bench', 'lib', 'build.js')) as { ensureBuild(): string }).ensureBuild();
}

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
  port: number;
  db: string;
  child: ChildProcess;
  /** Pid of the started process (the cluster primary when WEB_CONCURRENCY > 1). */
  pid: number;
  /** Every process of the app (primary, workers, re-executed children). */
  pids(): number[];
  /** Kills the app's whole process group with `signal` and waits for it to exit; the database stays. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after 30 s, then drops the database unless it was given. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Listen on this port (default: a free one). */
  port?: number;
  /** Use this existing database (not created, not dropped); default: a fresh one, dropped at stop. */
  db?: string;
  /** Node flags added after BENCH_NODE_ARGS. */
  nodeArgs?: string[];
  /** Receives the app's stderr (it is still copied to ours). */
  onStderr?: (chunk: string) => void;
  /** Prefix for the app's Redis keys (share it to run two instances as one deployment). */
  redisPrefix?: string;
  jwtSecret?: string;
  /** Applied after the overrides (e.g. WEB_CONCURRENCY=1 where a benchmark needs one process). */
  force?: Record<string, string>;
}

const started = new Set<number>();
process.on('exit', () => started.forEach((pid) => killTree(pid, 'SIGKILL')));
// A signal ends the benchmark through process.exit, so that the handler above stops its apps.
for (const sig of ['SIGINT', 'SIGTERM'] as const) if (process.listenerCount(sig) === 0) process.once(sig, () => process.exit(130));

/** The environment every benchmark gives the app, before its own additions and the overrides. */
export function baseAppEnv(db: string, port: number, opts: { redisPrefix?: string; jwtSecret?: string } = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    DATABASE_URL: dbUrl(db),
    DATABASE_POOL_SIZE: '16',
    REDIS_URL,
    REDIS_PREFIX: opts.redisPrefix ?? `bench${randomBytes(3).toString('hex')}`,
    JWT_SECRET: opts.jwtSecret ?? randomBytes(32).toString('hex'),
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
    ...benchXpubs(),
  };
}

/** Starts the built app (`node <build>/main.js`) on a fresh database (or `opts.db`) and waits for /api/health. */
export async function startApp(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<RunningApp> {
  const build = buildDir();
  const ownDb = !opts.db;
  const db = opts.db ?? `softchat_bench_${randomBytes(4).toString('hex')}`;
  if (ownDb) await adminQuery(`CREATE DATABASE "${db}"`);
  const port = opts.port ?? (await freePort());
  const nodeArgs = [...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : []), ...(opts.nodeArgs ?? [])];
  const child = spawn(process.execPath, [...nodeArgs, join(build, 'main.js')], {
    cwd: ROOT,
    env: { ...baseAppEnv(db, port, opts), ...env, ...appEnvOverrides(), ...(opts.force ?? {}) },
    stdio: ['ignore', 'inherit', opts.onStderr ? 'pipe' : 'inherit'],
  });
  const pid = child.pid!;
  started.add(pid);
  child.once('exit', () => started.delete(pid));
  if (opts.onStderr) {
    child.stderr!.on('data', (d: Buffer) => {
      process.stderr.write(d);
      opts.onStderr!(d.toString());
    });
  }
  const url = `http://127.0.0.1:${port}`;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const waitExit = (ms: number) =>
    exited() ? Promise.resolve() : Promise.race([new Promise<void>((r) => child.once('exit', () => r())), new Promise<void>((r) => setTimeout(r, ms))]);
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const survivors = treePids(pid);
    killTree(pid, signal);
    await waitExit(signal === 'SIGKILL' ? 10_000 : 30_000);
    if (!exited()) {
      killTree(pid, 'SIGKILL');
      await waitExit(10_000);
    }
    // Workers left behind by the primary (they exit on their own when its IPC channel closes).
    for (const p of survivors) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  const deadline = Date.now() + 90_000;
  try {
    for (;;) {
      if (exited()) throw new Error(`app exited with ${child.exitCode ?? child.signalCode}`);
      try {
        const r = await fetch(`${url}/api/health`);
        if (r.ok) break;
      } catch {
        /* starting */
      }
      if (Date.now() > deadline) throw new Error('app did not become healthy in 90 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await kill();
    if (ownDb) await adminQuery(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
    throw e;
  }
  return {
    url,
    port,
    db,
    child,
    pid,
    pids: () => treePids(pid),
    kill,
    async stop() {
      await kill('SIGTERM');
      if (ownDb) await adminQuery(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    },
  };
}

/** `scripts/ledger-verify` (compiled, from the build) against a database: its last line, throws on a breach. */
export function ledgerVerify(db: string): string {
  const out = execFileSync(process.execPath, [join(buildDir(), 'scripts', 'ledger-verify.js')], {
    env: { ...process.env, DATABASE_URL: dbUrl(db), REDIS_URL },
  }).toString();
  return out.trim().split('\n').pop() ?? '';
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

export interface RunningBare {
  url: string;
  port: number;
  pid: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The bare Socket.IO baseline (bench/chat-fanout/bare-server.ts, compiled), started like the app: plain node, BENCH_SERVER_NODE_ARGS added. */
export async function startBare(opts: { port?: number; redis?: boolean; nodeArgs?: string[]; onStderr?: (chunk: string) => void } = {}): Promise<RunningBare> {
  const nodeArgs = [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(opts.nodeArgs ?? [])];
  const args = [join(buildDir(), 'bench', 'chat-fanout', 'bare-server.js'), ...(opts.port ? ['--port', String(opts.port)] : []), ...(opts.redis ? ['--redis', REDIS_URL] : [])];
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', opts.onStderr ? 'pipe' : 'inherit'],
  });
  const pid = child.pid!;
  started.add(pid);
  child.once('exit', () => started.delete(pid));
  child.stderr?.on('data', (d: Buffer) => {
    process.stderr.write(d);
    opts.onStderr?.(d.toString());
  });
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`bare server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      killTree(pid, signal);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      killTree(pid, 'SIGKILL');
    },
  };
}

/** `--name value` from argv as a number, else `def`. */
export function numArg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} takes a number`);
  return v;
}

export const hasFlag = (name: string) => process.argv.includes(`--${name}`);

/** Writes bench/results/<name>.json. */
export function writeResult(name: string, result: unknown) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  fs.mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(join(ROOT, 'bench', 'results', `${name}.json`), JSON.stringify(result, null, 2));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Registers users concurrently (n at a time). */
export async function registerMany(url: string, count: number, tag: string, concurrency = 8): Promise<BenchUser[]> {
  const out: BenchUser[] = new Array(count);
  let next = 0;
  const suffix = randomBytes(2).toString('hex');
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const name = `${tag}${i}_${suffix}`;
        const res = await api(url, 'POST', '/api/auth/register', { username: name, email: `${name}@bench.test`, password: 'bench-password-1' });
        out[i] = { id: res.user.id, token: res.accessToken };
      }
    }),
  );
  return out;
}

/** The soft limit on open files (`ulimit -n`) this process and its children get. */
export function fdLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  } catch {
    return NaN;
  }
}
