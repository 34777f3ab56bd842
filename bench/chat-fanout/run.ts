/**
 * bench/chat-fanout: 10 rooms × 100 connected sockets; senders in every room; messages stored
 * (Postgres, per-room sequence) and fanned out by the app, measured against a bare Socket.IO
 * server doing the same broadcast without persistence, in the same run on the same machine.
 * Then the same payload through graphql-ws subscriptions (messageAdded).
 *
 * For each target the offered rate steps up until p99 latency exceeds 200 ms (a delivery that
 * never arrives counts as infinitely late), then bisects; the figure of merit is the highest
 * delivered messages per second (deliveries to sockets, i.e. messages × 100) with p99 ≤ 200 ms.
 *
 *   npm run bench:chat                      full run (~4-6 min on 2 cores)
 *   npm run bench:chat -- --quick           smaller and shorter (smoke)
 *   options: --rooms 10 --per-room 100 --senders 10 --step-seconds 3 --no-redis-baseline
 *            --only bare|bare-redis|app-sio|app-gql, --hold --start-rate N (one long step, for profiling;
 *            BENCH_APP_NODE_ARGS="--cpu-prof" passes node flags to the app)
 *
 * Server processes are started as users start them, with no extra node flags (the app's entry sets
 * its own); BENCH_SERVER_NODE_ARGS adds flags to all of them alike, BENCH_APP_NODE_ARGS to the app only.
 * The app's environment takes the lever switches, BENCH_APP_ENV and `--env KEY=VALUE` (bench/lib/app-env.ts);
 * with WEB_CONCURRENCY > 1 the CPU column sums the whole process tree.
 * Loopback only; Postgres and Redis from BENCH_DATABASE_ADMIN_URL / BENCH_REDIS_URL (default:
 * the local ones). Bounded: the whole run aborts after --max-minutes (default 12).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { RawGqlWs, RawSocketIo, benchContent, percentile, pool } from './clients';
import { appEnvOverrides } from '../lib/app-env';
import { benchXpubs } from '../lib/xpub';
import { killTree, treeCpuMs } from '../lib/procs';

/**
 * Everything runs as plain compiled JavaScript, as `node dist/main.js` does in production:
 * under ts-node every process would also load Node's REPL and with it the `domain` module,
 * which puts every EventEmitter.emit on a slower path. So the first invocation transpiles the
 * app (src/, migrations/) and this benchmark into a private temporary directory (no type
 * check, no writes to the repository) and re-runs itself from there.
 */
const COMPILED = process.env.CHAT_BENCH_COMPILED === '1' || __filename.endsWith('.js');
/** The tree the servers run from: the transpiled copy when compiled, else the repository. */
const ROOT = resolve(__dirname, '..', '..');
const REPO = process.env.CHAT_BENCH_REPO ?? process.env.BENCH_REPO ?? ROOT;
const PG_ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const flag = (name: string) => process.argv.includes(`--${name}`);
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const QUICK = flag('quick');
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null; // bare | app-sio | app-gql
const ROOMS = arg('rooms', 10);
const PER_ROOM = arg('per-room', QUICK ? 20 : 100);
const SENDERS = arg('senders', QUICK ? 4 : 10);
const STEP_MS = arg('step-seconds', QUICK ? 2 : 3) * 1000;
const MAX_MS = arg('max-minutes', 12) * 60_000;
const P99_LIMIT_MS = 200;
const START_RATE = arg('start-rate', 20); // messages per second, all rooms together
const startedAt = Date.now();
/**
 * Extra node flags for every server process (bare and app alike); none by default: the app is
 * started as `node dist/main.js` is, and its entry sets its own flags. (With V8's default young
 * generation and no flags the app spent 100-400 ms in Mark-Compact pauses under this load: try
 * BENCH_SERVER_NODE_ARGS=--max-semi-space-size=64 to compare, see docs/BENCHMARKS.md.)
 */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

function checkBudget() {
  if (Date.now() - startedAt > MAX_MS) throw new Error(`benchmark exceeded its ${MAX_MS / 60_000} minute budget`);
}

// ------------------------------------------------------------------ processes

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => killTree(c.pid!, 'SIGKILL')));
process.on('SIGINT', () => process.exit(130));

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

async function adminQuery(sql: string) {
  const c = new Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

function dbUrl(name: string) {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  killTree(child.pid!, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  killTree(child.pid!, 'SIGKILL');
  children.delete(child);
}

async function startBare(redis: boolean): Promise<{ url: string; pid?: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, join(__dirname, 'bare-server.js'), ...(redis ? ['--redis', REDIS_URL] : [])], {
    cwd: REPO,
    env: { PATH: process.env.PATH, NODE_PATH: join(REPO, 'node_modules'), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`bare server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => stopChild(child) };
}

async function startApp(): Promise<{ url: string; pid?: number; stop(): Promise<void> }> {
  const db = `softchat_bench_chat_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${db}"`);
  const port = await freePort();
  const nodeArgs = [...SERVER_NODE_ARGS, ...(process.env.BENCH_APP_NODE_ARGS ? process.env.BENCH_APP_NODE_ARGS.split(' ') : [])];
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'main.js')], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH,
      NODE_PATH: join(REPO, 'node_modules'),
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl(db),
      DATABASE_POOL_SIZE: '16',
      REDIS_URL,
      REDIS_PREFIX: `benchchat${randomBytes(3).toString('hex')}`,
      JWT_SECRET: randomBytes(32).toString('hex'),
      PASSWORD_HASH_MEMORY_KIB: '1024',
      PASSWORD_HASH_ITERATIONS: '1',
      // The benchmark is a handful of users sending hard: lift the per-user limits.
      THROTTLE_LIMIT: '10000000',
      THROTTLE_REGISTER_PER_MINUTE: '1000000',
      THROTTLE_SOCKET_EVENTS_PER_SECOND: '100000',
      THROTTLE_SOCKET_BURST: '100000',
      THROTTLE_CHAT_MESSAGES: '10000000',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
      SERVE_CLIENT: 'false',
      ...benchXpubs(),
      ...appEnvOverrides(),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${url}/api/health`)).ok) break;
      } catch {
        /* starting */
      }
      if (Date.now() > deadline) throw new Error('app did not become healthy in 90 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    await stopChild(child);
    await adminQuery(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    throw e;
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      await stopChild(child);
      await adminQuery(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    },
  };
}

async function api<T = any>(url: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const r = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

// ------------------------------------------------------------------ measurement

class Recorder {
  step = 0;
  lat: number[] = [];
  onDelivery = (step: number, sentAt: number) => {
    if (step === this.step) this.lat.push(performance.now() - sentAt);
  };
}

interface Sender {
  send(roomId: string, content: string): Promise<{ ok: boolean }>;
  roomId: string;
}

interface StepResult {
  rate: number;
  sent: number;
  expected: number;
  delivered: number;
  deliveredPerSec: number;
  p50: number;
  p99: number;
  ackErrors: number;
  /** send → ack (stored and announced) latency, p99 (ms). */
  ackP99: number;
  /** Server process CPU per delivered message (µs), step and drain included. */
  cpuUsPerDelivery: number;
  ok: boolean;
}

async function runStep(rec: Recorder, senders: Sender[], rate: number, receiversPerMessage: number, durationMs = STEP_MS, pid?: number): Promise<StepResult> {
  checkBudget();
  const cpuBefore = pid ? treeCpuMs(pid) : NaN;
  rec.step += 1;
  rec.lat = [];
  const step = rec.step;
  let sent = 0;
  let settled = 0;
  let ackErrors = 0;
  const ackLat: number[] = [];
  const start = performance.now();
  const end = start + durationMs;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      const target = Math.floor(((Math.min(now, end) - start) / 1000) * rate);
      while (sent < target) {
        const s = senders[sent % senders.length];
        sent += 1;
        const sentAt = performance.now();
        s.send(s.roomId, benchContent(step)).then(
          (a) => {
            ackLat.push(performance.now() - sentAt);
            settled += 1;
            if (!a.ok) ackErrors += 1;
          },
          () => {
            settled += 1;
            ackErrors += 1;
          },
        );
      }
      if (now >= end) done();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const expected = sent * receiversPerMessage;
  // Drain: every send answered and every delivery in (or 15 s passed, then the rest counts as lost).
  const drainUntil = performance.now() + 15_000;
  while (performance.now() < drainUntil && (settled < sent || rec.lat.length < expected - ackErrors * receiversPerMessage)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100));
  const lat = Float64Array.from(rec.lat).sort();
  const missing = Math.max(0, expected - lat.length);
  const p99 = percentile(lat, 99, missing);
  const result: StepResult = {
    rate,
    sent,
    expected,
    delivered: lat.length,
    deliveredPerSec: lat.length / (durationMs / 1000),
    p50: percentile(lat, 50, missing),
    p99,
    ackErrors,
    ackP99: percentile(Float64Array.from(ackLat).sort(), 99, Math.max(0, sent - ackLat.length)),
    cpuUsPerDelivery: lat.length ? (((pid ? treeCpuMs(pid) : NaN) - cpuBefore) * 1000) / lat.length : NaN,
    ok: p99 <= P99_LIMIT_MS && ackErrors === 0,
  };
  rec.step += 1; // late deliveries of this step are ignored from here on
  return result;
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '∞');

function printStep(label: string, r: StepResult) {
  console.log(
    `  ${label.padEnd(34)} offered ${fmt(r.rate).padStart(5)} msg/s → delivered ${fmt(r.deliveredPerSec).padStart(7)}/s ` +
      `(${r.delivered}/${r.expected})  p50 ${fmt(r.p50, 1).padStart(6)} ms  p99 ${fmt(r.p99, 1).padStart(7)} ms  ack p99 ${fmt(r.ackP99, 1).padStart(6)} ms  cpu ${fmt(r.cpuUsPerDelivery, 1).padStart(5)} µs/delivery${r.ackErrors ? `  ack errors ${r.ackErrors}` : ''}  ${r.ok ? 'ok' : 'OVER'}`,
  );
}

interface Target {
  label: string;
  /** The server process under test (for its CPU time). */
  pid?: number;
  rec: Recorder;
  senders: Sender[];
  steps: StepResult[];
  lastOk: StepResult | null;
  firstOver: StepResult | null;
  nextRate: number;
  bisections: number;
  close(): void;
}

/** Geometric ramp until p99 > 200 ms, then three bisection steps; null when this target is done. */
function nextRate(t: Target): number | null {
  if (flag('hold')) return t.steps.length ? null : START_RATE;
  if (!t.firstOver) return t.nextRate <= 50_000 ? t.nextRate : null;
  if (t.bisections >= 3 || !t.lastOk || t.firstOver.rate - t.lastOk.rate <= 2) return null;
  return Math.round((t.lastOk.rate + t.firstOver.rate) / 2);
}

function record(t: Target, r: StepResult) {
  t.steps.push(r);
  printStep(t.label, r);
  if (t.firstOver) t.bisections += 1;
  if (r.ok) t.lastOk = r;
  else t.firstOver = r;
  if (!t.firstOver) t.nextRate = Math.round(t.nextRate * 1.6);
}

function best(t: Target): StepResult | null {
  const passing = t.steps.filter((s) => s.ok);
  return passing.length ? passing.reduce((x, y) => (y.deliveredPerSec > x.deliveredPerSec ? y : x)) : null;
}

/**
 * Interleaved ramps: every round runs one step on each target still searching, back to back,
 * so background load on a shared machine hits all targets alike.
 */
async function rampAll(targets: Target[]) {
  console.log('\nramp (interleaved: one step per target per round)');
  for (;;) {
    let ran = false;
    for (const t of targets) {
      const rate = nextRate(t);
      if (rate === null) continue;
      ran = true;
      let r = await runStep(t.rec, t.senders, rate, PER_ROOM, STEP_MS, t.pid);
      if (!r.ok && !flag('hold')) {
        // On a shared machine one step can catch someone else's burst: over only if a retry is too.
        printStep(`${t.label} (retry)`, r);
        r = await runStep(t.rec, t.senders, rate, PER_ROOM, STEP_MS, t.pid);
      }
      record(t, r);
    }
    if (!ran) return;
  }
}

// ------------------------------------------------------------------ targets

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function socketIoTarget(label: string, pid: number | undefined, url: string, roomIds: string[], authFor: (i: number) => Record<string, string>): Promise<Target> {
  const rec = new Recorder();
  const sockets = await pool(range(ROOMS * PER_ROOM), 50, async (i) => {
    const s = await RawSocketIo.connect(url, authFor(i), rec.onDelivery);
    const ack = await s.emitAck<{ ok: boolean; error?: unknown }>('join_room', { roomId: roomIds[Math.floor(i / PER_ROOM)] });
    if (!ack.ok) throw new Error(`join_room refused: ${JSON.stringify(ack.error)}`);
    return s;
  });
  // Senders are members among the receivers, interleaved across rooms.
  const senders: Sender[] = [];
  for (let k = 0; k < SENDERS; k++) {
    for (let r = 0; r < ROOMS; r++) {
      const s = sockets[r * PER_ROOM + k];
      senders.push({ roomId: roomIds[r], send: (roomId, content) => s.emitAck('send_message', { roomId, content }) });
    }
  }
  const w = await runStep(rec, senders, 10, PER_ROOM, 1000); // warm-up
  console.log(`${label}: ${sockets.length} sockets in ${ROOMS} rooms, ${senders.length} senders (warm-up ${w.delivered}/${w.expected})`);
  return {
    label,
    pid,
    rec,
    senders,
    steps: [],
    lastOk: null,
    firstOver: null,
    nextRate: START_RATE,
    bisections: 0,
    close: () => sockets.forEach((x) => x.close()),
  };
}

async function graphqlTarget(label: string, pid: number | undefined, url: string, roomIds: string[], users: { token: string }[]): Promise<Target> {
  const rec = new Recorder();
  const query =
    'subscription($r: ID!) { messageAdded(roomId: $r) { id roomId seq senderId senderUsername content clientMessageId createdAt } }';
  const subs = await pool(range(ROOMS * PER_ROOM), 50, (i) =>
    RawGqlWs.subscribe(url, users[i].token, query, { r: roomIds[Math.floor(i / PER_ROOM)] }, rec.onDelivery),
  );
  // Senders send over Socket.IO without listening there, so only GraphQL deliveries count.
  const senderSockets = await pool(range(SENDERS * ROOMS), 20, async (j) => {
    const r = j % ROOMS;
    const k = Math.floor(j / ROOMS);
    return { r, s: await RawSocketIo.connect(url, { token: users[r * PER_ROOM + k].token }, () => undefined) };
  });
  const senders: Sender[] = senderSockets.map(({ r, s }) => ({ roomId: roomIds[r], send: (roomId, content) => s.emitAck('send_message', { roomId, content }) }));
  // Subscriptions become active asynchronously (membership check, Redis SUBSCRIBE): warm up until all deliver.
  let w: StepResult | null = null;
  for (let i = 0; i < 20 && (!w || w.delivered !== w.expected); i++) w = await runStep(rec, senders, 10, PER_ROOM, 1000);
  console.log(`${label}: ${subs.length} subscriptions in ${ROOMS} rooms, ${senders.length} senders (warm-up ${w!.delivered}/${w!.expected})`);
  return {
    label,
    pid,
    rec,
    senders,
    steps: [],
    lastOk: null,
    firstOver: null,
    nextRate: START_RATE,
    bisections: 0,
    close: () => {
      subs.forEach((x) => x.close());
      senderSockets.forEach(({ s }) => s.close());
    },
  };
}

function machine() {
  const cpu = cpus();
  let pg = '';
  try {
    pg = execFileSync('psql', ['--version']).toString().trim();
  } catch {
    /* unknown */
  }
  let redis = '';
  try {
    redis = /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? '';
  } catch {
    /* unknown */
  }
  return `${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${pg}, Redis ${redis}`;
}

async function main() {
  console.log(`chat-fanout: ${ROOMS} rooms × ${PER_ROOM} sockets, ${SENDERS} senders per room, ${STEP_MS / 1000} s steps, p99 limit ${P99_LIMIT_MS} ms`);
  console.log(`machine: ${machine()}`);
  console.log(`server node flags: ${SERVER_NODE_ARGS.join(' ') || '(none)'}`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const want = (phase: string) => !ONLY || ONLY === phase;
  const targets: Target[] = [];
  const stops: (() => Promise<void>)[] = [];
  try {
    const bareRooms = range(ROOMS).map((r) => `bench-room-${r}`);
    if (want('bare')) {
      const bare = await startBare(false);
      stops.push(bare.stop);
      targets.push(await socketIoTarget('bare Socket.IO', bare.pid, bare.url, bareRooms, (i) => ({ userId: `u${i}` })));
    }
    if ((!ONLY && !flag('no-redis-baseline')) || ONLY === 'bare-redis') {
      const bareRedis = await startBare(true);
      stops.push(bareRedis.stop);
      targets.push(await socketIoTarget('bare Socket.IO + Redis', bareRedis.pid, bareRedis.url, bareRooms, (i) => ({ userId: `u${i}` })));
    }
    if (want('app-sio') || want('app-gql')) {
      const app = await startApp();
      stops.push(app.stop);
      const n = ROOMS * PER_ROOM;
      const tag = randomBytes(2).toString('hex');
      const users = await pool(range(n), 16, async (i) => {
        const name = `bc${tag}_${i}`;
        const res = await api(app.url, 'POST', '/api/auth/register', { username: name, email: `${name}@bench.test`, password: 'bench-password-1' });
        return { id: res.user.id as string, token: res.accessToken as string };
      });
      // Separate rooms for the two transports, so that measuring one does not load the other.
      const makeRooms = (kind: string) =>
        pool(range(ROOMS), 4, async (r) => (await api(app.url, 'POST', '/api/chat/rooms', { name: `bench ${kind} ${r}` }, users[r * PER_ROOM].token)).id as string);
      const sioRooms = await makeRooms('sio');
      const gqlRooms = await makeRooms('gql');
      await pool(range(n), 16, async (i) => {
        const room = Math.floor(i / PER_ROOM);
        await api(app.url, 'POST', `/api/chat/rooms/${sioRooms[room]}/join`, {}, users[i].token);
        await api(app.url, 'POST', `/api/chat/rooms/${gqlRooms[room]}/join`, {}, users[i].token);
      });
      if (want('app-sio')) targets.push(await socketIoTarget('app Socket.IO', app.pid, app.url, sioRooms, (i) => ({ token: users[i].token })));
      if (want('app-gql')) targets.push(await graphqlTarget('app graphql-ws', app.pid, app.url, gqlRooms, users));
    }

    await rampAll(targets);
  } finally {
    targets.forEach((t) => t.close());
    for (const stop of stops.reverse()) await stop();
  }

  console.log('\nResult: highest delivered messages/s with p99 ≤ 200 ms (deliveries = messages × sockets in the room)');
  const bestOf = (label: string) => {
    const t = targets.find((x) => x.label === label);
    return t ? (best(t)?.deliveredPerSec ?? NaN) : NaN;
  };
  const bareBest = bestOf('bare Socket.IO');
  const appSio = bestOf('app Socket.IO');
  for (const t of targets) {
    const b = best(t);
    const ratios = [
      Number.isFinite(bareBest) && b ? `${fmt((b.deliveredPerSec / bareBest) * 100)}% of bare` : '',
      t.label === 'app graphql-ws' && b && Number.isFinite(appSio) ? `${fmt((b.deliveredPerSec / appSio) * 100)}% of app Socket.IO` : '',
    ].filter(Boolean);
    console.log(
      `  ${t.label.padEnd(26)} ${
        b ? `${fmt(b.deliveredPerSec).padStart(7)}/s at ${fmt(b.rate)} msg/s offered, p50 ${fmt(b.p50, 1)} ms, p99 ${fmt(b.p99, 1)} ms${ratios.length ? `  (${ratios.join(', ')})` : ''}` : 'no step met the p99 limit'
      }`,
    );
  }
  console.log('\nServer process CPU per delivered message at that best step (its own CPU only; Postgres and Redis not included):');
  for (const t of targets) {
    const b = best(t);
    console.log(`  ${t.label.padEnd(26)} ${b ? `${fmt(b.cpuUsPerDelivery, 1)} µs` : 'n/a'}`);
  }
  console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; elapsed ${Math.round((Date.now() - startedAt) / 1000)} s`);
  const appGql = bestOf('app graphql-ws');
  const result = {
    when: new Date().toISOString(),
    machine: machine(),
    config: { rooms: ROOMS, perRoom: PER_ROOM, senders: SENDERS, stepSeconds: STEP_MS / 1000, serverNodeArgs: SERVER_NODE_ARGS, appEnv: appEnvOverrides() },
    targets: targets.map((t) => ({ label: t.label, best: best(t), steps: t.steps })),
    appSioVsBare: +(appSio / bareBest).toFixed(3),
    gqlVsAppSio: +(appGql / appSio).toFixed(3),
  };
  mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
  writeFileSync(join(REPO, 'bench', 'results', 'chat-fanout.json'), JSON.stringify(result, null, 2));
}

/** Under ts-node: build (bench/lib/build.js, shared with the other benchmarks) and re-run compiled. */
async function compileAndRerun(): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dir = (require('../lib/build.js') as { ensureBuild(): string }).ensureBuild();
  const child = spawn(process.execPath, [join(dir, 'bench', 'chat-fanout', 'run.js'), ...process.argv.slice(2)], {
    cwd: ROOT,
    env: { ...process.env, BENCH_BUILD: dir, BENCH_REPO: ROOT },
    stdio: 'inherit',
  });
  process.on('SIGINT', () => child.kill('SIGINT'));
  return await new Promise<number>((ok) => child.once('exit', (code) => ok(code ?? 1)));
}

if (COMPILED) {
  // If the launcher is killed (it may itself be another benchmark), do not run on as an orphan.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      console.error('chat-fanout: launcher gone; stopping');
      process.exit(1);
    }
  }, 1000).unref();
}

if (!COMPILED) {
  void compileAndRerun().then((code) => process.exit(code));
} else main()
  .then(() => process.exit(0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
