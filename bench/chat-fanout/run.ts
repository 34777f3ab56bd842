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
 *
 * Loopback only; Postgres and Redis from BENCH_DATABASE_ADMIN_URL / BENCH_REDIS_URL (default:
 * the local ones). Bounded: the whole run aborts after --max-minutes (default 12).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { RawGqlWs, RawSocketIo, benchContent, percentile, pool } from './clients';

const ROOT = resolve(__dirname, '..', '..');
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

function checkBudget() {
  if (Date.now() - startedAt > MAX_MS) throw new Error(`benchmark exceeded its ${MAX_MS / 60_000} minute budget`);
}

// ------------------------------------------------------------------ processes

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
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
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
  children.delete(child);
}

async function startBare(redis: boolean): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'bare-server.ts'), ...(redis ? ['--redis', REDIS_URL] : [])], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), NODE_ENV: 'production' },
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
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

async function startApp(): Promise<{ url: string; stop(): Promise<void> }> {
  const db = `softchat_bench_chat_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${db}"`);
  const port = await freePort();
  const nodeArgs = process.env.BENCH_APP_NODE_ARGS ? process.env.BENCH_APP_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, '-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
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
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
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
  return {
    url,
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
  ok: boolean;
}

async function runStep(rec: Recorder, senders: Sender[], rate: number, receiversPerMessage: number, durationMs = STEP_MS): Promise<StepResult> {
  checkBudget();
  rec.step += 1;
  rec.lat = [];
  const step = rec.step;
  let sent = 0;
  let settled = 0;
  let ackErrors = 0;
  const start = performance.now();
  const end = start + durationMs;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      const target = Math.floor(((Math.min(now, end) - start) / 1000) * rate);
      while (sent < target) {
        const s = senders[sent % senders.length];
        sent += 1;
        s.send(s.roomId, benchContent(step)).then(
          (a) => {
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
    ok: p99 <= P99_LIMIT_MS && ackErrors === 0,
  };
  rec.step += 1; // late deliveries of this step are ignored from here on
  return result;
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '∞');

function printStep(label: string, r: StepResult) {
  console.log(
    `  ${label.padEnd(26)} offered ${fmt(r.rate).padStart(5)} msg/s → delivered ${fmt(r.deliveredPerSec).padStart(7)}/s ` +
      `(${r.delivered}/${r.expected})  p50 ${fmt(r.p50, 1).padStart(6)} ms  p99 ${fmt(r.p99, 1).padStart(7)} ms${r.ackErrors ? `  ack errors ${r.ackErrors}` : ''}  ${r.ok ? 'ok' : 'OVER'}`,
  );
}

interface Summary {
  label: string;
  best: StepResult | null;
  steps: StepResult[];
}

/** Geometric ramp until p99 > 200 ms, then three bisection steps. */
async function ramp(label: string, rec: Recorder, senders: Sender[], receiversPerMessage: number): Promise<Summary> {
  const steps: StepResult[] = [];
  let lastOk: StepResult | null = null;
  let firstOver: StepResult | null = null;
  let rate = START_RATE;
  while (!firstOver) {
    const r = await runStep(rec, senders, rate, receiversPerMessage);
    printStep(label, r);
    steps.push(r);
    if (r.ok) lastOk = r;
    else firstOver = r;
    rate = Math.round(rate * 1.6);
    if (rate > 50_000) break;
  }
  for (let i = 0; i < 3 && lastOk && firstOver && firstOver.rate - lastOk.rate > 2; i++) {
    const mid = Math.round((lastOk.rate + firstOver.rate) / 2);
    const r = await runStep(rec, senders, mid, receiversPerMessage);
    printStep(label, r);
    steps.push(r);
    if (r.ok) lastOk = r;
    else firstOver = r;
  }
  const passing = steps.filter((s) => s.ok);
  const best = passing.length ? passing.reduce((x, y) => (y.deliveredPerSec > x.deliveredPerSec ? y : x)) : null;
  return { label, best, steps };
}

// ------------------------------------------------------------------ phases

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function socketIoPhase(label: string, url: string, roomIds: string[], authFor: (i: number) => Record<string, string>): Promise<Summary> {
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
  console.log(`\n${label}: ${sockets.length} sockets in ${ROOMS} rooms, ${senders.length} senders`);
  await runStep(rec, senders, 10, PER_ROOM, 1000); // warm-up
  const summary = await ramp(label, rec, senders, PER_ROOM);
  sockets.forEach((s) => s.close());
  await new Promise((r) => setTimeout(r, 1500));
  return summary;
}

async function graphqlPhase(label: string, url: string, roomIds: string[], users: { token: string }[]): Promise<Summary> {
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
  console.log(`\n${label}: ${subs.length} subscriptions in ${ROOMS} rooms, ${senders.length} senders`);
  // Subscriptions become active asynchronously (membership check, Redis SUBSCRIBE): warm up until all deliver.
  for (let i = 0; i < 20; i++) {
    const w = await runStep(rec, senders, 10, PER_ROOM, 1000);
    if (w.delivered === w.expected) break;
  }
  const summary = await ramp(label, rec, senders, PER_ROOM);
  subs.forEach((s) => s.close());
  senderSockets.forEach(({ s }) => s.close());
  return summary;
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
  const summaries: Summary[] = [];

  const want = (phase: string) => !ONLY || ONLY === phase;
  if (want('bare')) {
    const bare = await startBare(false);
    summaries.push(await socketIoPhase('bare Socket.IO', bare.url, range(ROOMS).map((r) => `bench-room-${r}`), (i) => ({ userId: `u${i}` })));
    await bare.stop();
  }
  if ((!ONLY && !flag('no-redis-baseline')) || ONLY === 'bare-redis') {
    const bareRedis = await startBare(true);
    summaries.push(await socketIoPhase('bare Socket.IO + Redis', bareRedis.url, range(ROOMS).map((r) => `bench-room-${r}`), (i) => ({ userId: `u${i}` })));
    await bareRedis.stop();
  }
  if (want('app-sio') || want('app-gql')) {
    const app = await startApp();
    try {
      const n = ROOMS * PER_ROOM;
      const tag = randomBytes(2).toString('hex');
      const users = await pool(range(n), 16, async (i) => {
        const name = `bc${tag}_${i}`;
        const res = await api(app.url, 'POST', '/api/auth/register', { username: name, email: `${name}@bench.test`, password: 'bench-password-1' });
        return { id: res.user.id as string, token: res.accessToken as string };
      });
      const roomIds = await pool(range(ROOMS), 4, async (r) => (await api(app.url, 'POST', '/api/chat/rooms', { name: `bench ${r}` }, users[r * PER_ROOM].token)).id as string);
      // Everyone joins their room (membership); the Socket.IO phase also listens.
      await pool(range(n), 16, (i) => api(app.url, 'POST', `/api/chat/rooms/${roomIds[Math.floor(i / PER_ROOM)]}/join`, {}, users[i].token));
      if (want('app-sio')) summaries.push(await socketIoPhase('app Socket.IO', app.url, roomIds, (i) => ({ token: users[i].token })));
      if (want('app-gql')) summaries.push(await graphqlPhase('app graphql-ws', app.url, roomIds, users));
    } finally {
      await app.stop();
    }
  }

  console.log('\nResult: highest delivered messages/s with p99 ≤ 200 ms (deliveries = messages × sockets in the room)');
  const bareBest = summaries.find((s) => s.label === 'bare Socket.IO')?.best?.deliveredPerSec ?? NaN;
  const appSio = summaries.find((s) => s.label === 'app Socket.IO')?.best?.deliveredPerSec ?? NaN;
  for (const s of summaries) {
    const b = s.best;
    const vsBare = b ? `${fmt((b.deliveredPerSec / bareBest) * 100)}% of bare` : '';
    const vsSio = s.label === 'app graphql-ws' && b ? `, ${fmt((b.deliveredPerSec / appSio) * 100)}% of app Socket.IO` : '';
    console.log(
      `  ${s.label.padEnd(26)} ${b ? `${fmt(b.deliveredPerSec).padStart(7)}/s at ${fmt(b.rate)} msg/s offered, p50 ${fmt(b.p50, 1)} ms, p99 ${fmt(b.p99, 1)} ms  (${vsBare}${vsSio})` : 'no step met the p99 limit'}`,
    );
  }
  console.log(`\nelapsed ${Math.round((Date.now() - startedAt) / 1000)} s`);
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
