/**
 * bench/rewards: reward payouts end to end (POST /api/rewards/trigger → BullMQ payout job →
 * ledger transfer → `reward_earned` on the user's socket) and BullMQ delayed-job lateness,
 * idle and while chat fan-out load runs. For each condition:
 *
 *   - saturation: a closed loop of --concurrency clients triggering `like` rewards for
 *     --seconds; rewards/s triggered and paid (the database's paid_at), and how long the
 *     backlog took to drain after the last trigger;
 *   - fixed rate: an open loop at --rate rewards/s for --seconds; trigger → `reward_earned`
 *     latency (p50/p99) when the system is not saturated;
 *   - lateness: delayed `rewards/payout` jobs (200-2000 ms) added at --probes-per-second for
 *     --probe-seconds; lateness = processedOn − (added + delay). Probes are real payout jobs for
 *     an already-paid reward: the worker re-reads it and exits, so scheduling is measured.
 *
 * Conditions: (1) idle; (2) while bench/chat-fanout runs (its own app process, its Socket.IO
 * phase held at --chat-rate messages/s into 10 rooms × --chat-per-room sockets); (3) while
 * Socket.IO fan-out runs inside the app under test (its chat rooms, --local-rate messages/s
 * into --local-rooms × --local-per-room sockets): the production topology, where the BullMQ
 * worker shares the process with the sockets.
 *
 *   npm run bench:rewards [-- --seconds 8 --concurrency 32 --rate 50 --chat-rate 40 --only idle]
 *
 * Loopback only; Postgres and Redis as in bench/lib/harness.ts. Bounded: aborts after --max-minutes (default 12).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import { io, Socket } from 'socket.io-client';
import { ROOT, REDIS_URL, ledgerVerify, adminToken, api, dbUrl, machine, registerUsers, startApp, BenchUser, RunningApp } from '../lib/harness';
import { RawSocketIo, benchContent, pool } from '../chat-fanout/clients';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = arg('seconds', 8);
const CONCURRENCY = arg('concurrency', 32);
const RATE = arg('rate', 50);
const USERS = arg('users', 40);
const PROBE_SECONDS = arg('probe-seconds', 10);
const PROBES_PER_SECOND = arg('probes-per-second', 20);
const CHAT_RATE = arg('chat-rate', 40);
const CHAT_PER_ROOM = arg('chat-per-room', 100);
const LOCAL_RATE = arg('local-rate', 30);
const LOCAL_ROOMS = arg('local-rooms', 5);
const LOCAL_PER_ROOM = arg('local-per-room', 60);
const MAX_MS = arg('max-minutes', 12) * 60_000;
/** `--only idle` runs condition 1 alone (a quick check). */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const startedAt = Date.now();

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));
const budget = setTimeout(() => {
  console.error(`bench/rewards exceeded its ${MAX_MS / 60_000} minute budget`);
  process.exit(2);
}, MAX_MS);
budget.unref();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const r1 = (n: number) => Math.round(n * 10) / 10;

// ------------------------------------------------------------------ rewards: trigger → paid

interface Ctx {
  url: string;
  db: string;
  users: BenchUser[];
  /** reward id → when its `reward_earned` arrived (performance.now()). */
  paidAt: Map<string, number>;
}

async function connectListeners(url: string, users: BenchUser[], paidAt: Map<string, number>): Promise<Socket[]> {
  return pool(users, 10, (u) => {
    const s = io(url, { auth: { token: u.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    s.on('reward_earned', (p: { reward: { id: string } }) => paidAt.set(p.reward.id, performance.now()));
    return new Promise<Socket>((ok, fail) => {
      s.once('connect', () => ok(s));
      s.once('connect_error', fail);
    });
  });
}

async function trigger(ctx: Ctx, k: number, tag: string) {
  const u = ctx.users[k % ctx.users.length];
  const r = await api(ctx.url, 'POST', '/api/rewards/trigger', { action: 'like', targetId: `${tag}-${k}` }, u.token);
  if (r.status !== 'queued') throw new Error(`trigger answered ${JSON.stringify(r)}`);
  return r.rewardId as string;
}

async function waitPaid(ctx: Ctx, ids: Iterable<string>) {
  const deadline = performance.now() + 120_000;
  for (const id of ids) {
    while (!ctx.paidAt.has(id)) {
      if (performance.now() > deadline) throw new Error('rewards not paid within 120 s');
      await sleep(10);
    }
  }
}

/** Paid per second as the database saw it: first reward created → last paid_at. */
async function dbPaidPerSec(ctx: Ctx, tag: string): Promise<number> {
  const db = new Client({ connectionString: dbUrl(ctx.db) });
  await db.connect();
  try {
    const { rows } = await db.query(
      `SELECT COUNT(*)::int AS n, EXTRACT(EPOCH FROM MAX(paid_at) - MIN(created_at))::float AS s FROM rewards WHERE action = 'like' AND target_id LIKE $1`,
      [`${tag}-%`],
    );
    return Math.round(rows[0].n / rows[0].s);
  } finally {
    await db.end();
  }
}

interface Saturation {
  triggers: number;
  triggersPerSec: number;
  paidPerSec: number;
  drainMs: number;
  triggerP50: number;
  triggerP99: number;
}

/** Closed loop: each client triggers the next reward as soon as the last was answered. */
async function saturate(ctx: Ctx, tag: string, seconds = SECONDS): Promise<Saturation> {
  const ids: string[] = [];
  const lat: number[] = [];
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        ids.push(await trigger(ctx, n++, tag));
        lat.push(performance.now() - s);
      }
    }),
  );
  const triggerEnd = performance.now();
  await waitPaid(ctx, ids);
  const lastPaid = Math.max(...ids.map((id) => ctx.paidAt.get(id)!));
  return {
    triggers: ids.length,
    triggersPerSec: Math.round(ids.length / ((triggerEnd - t0) / 1000)),
    paidPerSec: await dbPaidPerSec(ctx, tag),
    drainMs: Math.round(lastPaid - triggerEnd),
    triggerP50: r1(pct(lat, 50)),
    triggerP99: r1(pct(lat, 99)),
  };
}

interface FixedRate {
  rate: number;
  rewards: number;
  triggerP50: number;
  triggerP99: number;
  paidP50: number;
  paidP99: number;
}

/** Open loop at `rate` rewards/s: trigger → `reward_earned` latency below saturation. */
async function fixedRate(ctx: Ctx, tag: string, rate = RATE, seconds = SECONDS): Promise<FixedRate> {
  const sent = new Map<string, number>();
  const lat: number[] = [];
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  let k = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (k < due) {
      const s = performance.now();
      inflight.push(
        trigger(ctx, k++, tag).then((id) => {
          lat.push(performance.now() - s);
          sent.set(id, s);
        }),
      );
    }
    await sleep(2);
  }
  await Promise.all(inflight);
  await waitPaid(ctx, sent.keys());
  const paid = [...sent].map(([id, s]) => ctx.paidAt.get(id)! - s);
  return { rate, rewards: sent.size, triggerP50: r1(pct(lat, 50)), triggerP99: r1(pct(lat, 99)), paidP50: r1(pct(paid, 50)), paidP99: r1(pct(paid, 99)) };
}

// ------------------------------------------------------------------ delayed-job lateness

interface Lateness {
  probes: number;
  p50: number;
  p99: number;
  max: number;
}

async function lateness(queue: Queue, paidRewardId: string, tag: string, seconds = PROBE_SECONDS): Promise<Lateness> {
  const delays = new Map<string, number>();
  const t0 = Date.now();
  let k = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const delay = 200 + Math.floor(Math.random() * 1800);
    const id = `probe-${tag}-${k++}`;
    await queue.add('payout', { rewardId: paidRewardId }, { jobId: id, delay, attempts: 1 });
    delays.set(id, delay);
    await sleep(1000 / PROBES_PER_SECOND);
  }
  const late: number[] = [];
  const deadline = Date.now() + 60_000;
  for (const [id, delay] of delays) {
    for (;;) {
      const job = await queue.getJob(id);
      if (job?.processedOn) {
        // BullMQ resets job.delay when it promotes the job: the due time is add time + requested delay.
        late.push(job.processedOn - (job.timestamp + delay));
        break;
      }
      if (Date.now() > deadline) throw new Error(`probe ${id} not processed within 60 s`);
      await sleep(50);
    }
  }
  return { probes: late.length, p50: pct(late, 50), p99: pct(late, 99), max: Math.max(...late) };
}

// ------------------------------------------------------------------ chat fan-out load

/** bench/chat-fanout in its own process, its Socket.IO phase held at CHAT_RATE for `holdSeconds`. */
function startChatFanout(holdSeconds: number): { ready: Promise<void>; done: Promise<string> } {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      join(ROOT, 'bench', 'chat-fanout', 'run.ts'),
      ...['--only', 'app-sio', '--hold', '--start-rate', String(CHAT_RATE), '--step-seconds', String(holdSeconds), '--per-room', String(CHAT_PER_ROOM), '--max-minutes', '8'],
    ],
    { cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.add(child);
  let out = '';
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const done = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // "app Socket.IO: N sockets in ..." precedes a 1 s warm-up and the held step.
      if (/app Socket\.IO: \d+ sockets/.test(out)) setTimeout(ready, 2000);
    });
    child.once('exit', (code) => {
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`chat-fanout exited with ${code}:\n${out}`));
    });
  });
  return { ready: readyP, done };
}

/** Socket.IO fan-out inside the app under test: its chat rooms, two senders per room, `rate` msg/s. */
async function startLocalFanout(url: string, rate: number) {
  const users = await registerUsers(url, LOCAL_ROOMS * LOCAL_PER_ROOM, 'fan');
  const rooms = await pool(
    Array.from({ length: LOCAL_ROOMS }, (_, r) => r),
    4,
    async (r) => (await api(url, 'POST', '/api/chat/rooms', { name: `bench ${r}` }, users[r * LOCAL_PER_ROOM].token)).id as string,
  );
  await pool(users, 16, (u, i) => api(url, 'POST', `/api/chat/rooms/${rooms[Math.floor(i / LOCAL_PER_ROOM)]}/join`, {}, u.token));
  const lat: number[] = [];
  let delivered = 0;
  const sockets = await pool(users, 25, async (u, i) => {
    const s = await RawSocketIo.connect(url, { token: u.token }, (_step, sentAt) => {
      delivered += 1;
      lat.push(performance.now() - sentAt);
    });
    const ack = await s.emitAck<{ ok: boolean }>('join_room', { roomId: rooms[Math.floor(i / LOCAL_PER_ROOM)] });
    if (!ack.ok) throw new Error('join_room refused');
    return s;
  });
  const senders = rooms.flatMap((roomId, r) => [0, 1].map((k) => ({ roomId, s: sockets[r * LOCAL_PER_ROOM + k] })));
  let sent = 0;
  let running = true;
  const t0 = performance.now();
  const loop = (async () => {
    while (running) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      while (sent < due) {
        const x = senders[sent % senders.length];
        sent += 1;
        x.s.emitAck('send_message', { roomId: x.roomId, content: benchContent(1) }).catch(() => undefined);
      }
      await sleep(5);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await sleep(500);
      const seconds = (performance.now() - t0) / 1000;
      sockets.forEach((s) => s.close());
      return { messagesPerSec: Math.round(sent / seconds), deliveriesPerSec: Math.round(delivered / seconds), p50: r1(pct(lat, 50)), p99: r1(pct(lat, 99)) };
    },
  };
}

// ------------------------------------------------------------------ main

interface Condition {
  saturation: Saturation;
  fixedRate: FixedRate;
  lateness: Lateness;
}

async function measure(ctx: Ctx, queue: Queue, paidId: string, tag: string): Promise<Condition> {
  const lateP = await lateness(queue, paidId, tag);
  const fixed = await fixedRate(ctx, `${tag}-fixed`);
  const sat = await saturate(ctx, `${tag}-sat`);
  return { saturation: sat, fixedRate: fixed, lateness: lateP };
}


async function main() {
  let redisVersion = '';
  try {
    redisVersion = /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? '';
  } catch {
    /* unknown */
  }
  const where = `${machine()}, Redis ${redisVersion}`;
  const loadStart = loadavg().map((v) => v.toFixed(2)).join(' ');
  console.log(`bench/rewards: ${SECONDS} s phases, ${CONCURRENCY} clients / ${RATE} rewards/s, ${PROBE_SECONDS} s of delayed-job probes at ${PROBES_PER_SECOND}/s — ${where}`);
  const prefix = `benchrw${randomBytes(3).toString('hex')}`;
  const app: RunningApp = await startApp({
    REDIS_PREFIX: prefix,
    REWARDS_POOL_SEED: '100000000',
    THROTTLE_SOCKET_EVENTS_PER_SECOND: '100000',
    THROTTLE_SOCKET_BURST: '100000',
    THROTTLE_CHAT_MESSAGES: '10000000',
  });
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('rewards', { connection: conn, prefix: `${prefix}:bull` });
  const results: { idle?: Condition; duringChatFanout?: Condition & { chatStep: string }; sameProcessFanout?: Condition & { fanout: unknown }; ledgerVerify?: string } = {};
  try {
    const admin = await adminToken(app.url);
    await api(app.url, 'PATCH', '/api/admin/rewards/rules/like', { dailyCap: 1_000_000, cooldownSeconds: 0 }, admin);
    const users = await registerUsers(app.url, USERS, 'rw');
    const ctx: Ctx = { url: app.url, db: app.db, users, paidAt: new Map() };
    const sockets = await connectListeners(app.url, users, ctx.paidAt);

    // Warm-up (JIT, pools, every user's SOFT account) is not measured.
    await saturate(ctx, 'warm', 2);
    const paidId = [...ctx.paidAt.keys()][0];

    console.log('\n1. idle');
    results.idle = await measure(ctx, queue, paidId, 'idle');
    console.log(JSON.stringify(results.idle));

    if (ONLY !== 'idle') {
      console.log(`\n2. while bench/chat-fanout runs (own app process; 10 rooms × ${CHAT_PER_ROOM} sockets, ${CHAT_RATE} msg/s held)`);
      const chat = startChatFanout(PROBE_SECONDS + 3 * SECONDS + 30);
      await Promise.race([chat.ready, chat.done.then(() => Promise.reject(new Error('chat-fanout ended before its load started')))]);
      const during = await measure(ctx, queue, paidId, 'chat');
      const chatOut = await chat.done;
      const step = chatOut.split('\n').find((line) => /offered .* delivered/.test(line))?.trim() ?? '(no step line)';
      results.duringChatFanout = { ...during, chatStep: step };
      console.log(JSON.stringify(results.duringChatFanout));

      console.log(`\n3. while Socket.IO fan-out runs in the worker's own process (${LOCAL_ROOMS} rooms × ${LOCAL_PER_ROOM} sockets, ${LOCAL_RATE} msg/s)`);
      const local = await startLocalFanout(app.url, LOCAL_RATE);
      await sleep(1000);
      const same = await measure(ctx, queue, paidId, 'local');
      results.sameProcessFanout = { ...same, fanout: await local.stop() };
      console.log(JSON.stringify(results.sameProcessFanout));
    }

    sockets.forEach((s) => s.close());
    results.ledgerVerify = ledgerVerify(app.db);
    const load = (x: number[]) => x.map((v) => v.toFixed(2)).join(' ');
    const out = {
      when: new Date().toISOString(),
      machine: where,
      /** 1/5/15-minute load averages at the start and the end (the machine may be shared). */
      loadAverage: { start: loadStart, end: load(loadavg()) },
      settings: { seconds: SECONDS, concurrency: CONCURRENCY, rate: RATE, users: USERS, probeSeconds: PROBE_SECONDS, probesPerSecond: PROBES_PER_SECOND, chatRate: CHAT_RATE, chatPerRoom: CHAT_PER_ROOM, localRate: LOCAL_RATE, localRooms: LOCAL_ROOMS, localPerRoom: LOCAL_PER_ROOM },
      ...results,
    };
    if (ONLY !== 'idle') {
      mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
      writeFileSync(join(ROOT, 'bench', 'results', 'rewards.json'), JSON.stringify(out, null, 2));
    }

    const row = (label: string, x?: Condition) =>
      x
        ? `| ${label} | ${x.saturation.paidPerSec} | ${x.saturation.triggersPerSec} | ${x.saturation.drainMs} | ${x.fixedRate.paidP50} / ${x.fixedRate.paidP99} | ${x.lateness.p50} / ${x.lateness.p99} |`
        : '';
    console.log(
      `\n| condition | rewards paid/s (saturated) | triggers/s | backlog drain ms | trigger→paid p50 / p99 ms at ${RATE}/s | delayed-job lateness p50 / p99 ms |\n|---|---|---|---|---|---|\n` +
        [
          row('idle', results.idle),
          row(`bench/chat-fanout running (own process, ${CHAT_RATE} msg/s × ${CHAT_PER_ROOM} sockets/room)`, results.duringChatFanout),
          row(`fan-out in the worker's process (${LOCAL_RATE} msg/s × ${LOCAL_PER_ROOM} sockets/room)`, results.sameProcessFanout),
        ]
          .filter(Boolean)
          .join('\n'),
    );
    if (results.duringChatFanout) console.log(`\nchat-fanout step: ${results.duringChatFanout.chatStep}`);
    if (results.sameProcessFanout) console.log(`same-process fan-out: ${JSON.stringify(results.sameProcessFanout.fanout)}`);
    console.log(`load average (1/5/15 min): ${out.loadAverage.start} at start, ${out.loadAverage.end} at end`);
    console.log(`ledger: ${results.ledgerVerify}\nelapsed ${Math.round((Date.now() - startedAt) / 1000)} s`);
  } finally {
    await queue.close().catch(() => undefined);
    conn.disconnect();
    await app.stop();
  }
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
