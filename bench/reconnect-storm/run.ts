/**
 * bench/reconnect-storm: N chat clients connected and joined to rooms; the server is killed (SIGKILL of
 * its whole process group), kept down for --outage-seconds, and started again on the same port (and,
 * for the app, the same database and Redis prefix). Every client reconnects with the real client's
 * backoff and jitter (bench/lib/chat-client.ts, after client/src/lib/socket.ts) and catches up what it
 * missed: `join_room {roomId,lastSeq}` (its ack carries the missed messages) and, when `hasMore`, the
 * REST history `?afterSeq=`.
 *
 *   npm run bench:reconnect [-- --clients 5000 --outage-seconds 10 --rate 20]
 *
 * `--rate 0` sends no chat messages: the app's storm is then handshakes, joins and (empty) catch-ups only,
 * the like-for-like comparison with bare's handshake rate (bare carries no chat traffic).
 *
 * App: chat messages are sent all along (before, during and after the outage) through the REST API of a
 * SECOND app instance on another port (same database, Redis and JWT secret: one deployment of two
 * instances), so the outage of the first loses live deliveries that only the catch-up can restore.
 * Asserted (exit code 1 otherwise): every client is back, joined, and holds every message of its room,
 * seq 1..last with no gap. Bare Socket.IO (bench/chat-fanout/bare-server.ts): the same storm, clients
 * only reconnect and join (it stores nothing).
 * Figure: handshakes/s during the storm = clients / (last handshake − server ready), app vs bare.
 * `--no-catch-up` is the negative control: app clients rejoin without `lastSeq` and ignore what the ack
 * carries, so the check above must report missing messages (and the run fail).
 */
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { pool } from '../chat-fanout/clients';
import { ChatClient } from '../lib/chat-client';
import {
  BenchUser,
  adminQuery,
  api,
  appEnvOverrides,
  fdLimit,
  hasFlag,
  machine,
  numArg,
  registerMany,
  sleep,
  startApp,
  startBare,
  writeResult,
} from '../lib/harness';

const QUICK = hasFlag('quick');
const CLIENTS = numArg('clients', QUICK ? 500 : 5000);
const ROOMS = numArg('rooms', 10);
const USERS = numArg('users', QUICK ? 20 : 100);
const OUTAGE_MS = numArg('outage-seconds', 10) * 1000;
const PRE_MS = numArg('pre-seconds', QUICK ? 3 : 5) * 1000;
const RATE = numArg('rate', 20); // chat messages per second, all rooms together
const BACK_TIMEOUT_MS = numArg('back-timeout-seconds', 120) * 1000;
const MAX_MS = numArg('max-minutes', 10) * 60_000;
const CATCH_UP = !hasFlag('no-catch-up');
const ONLY_APP = hasFlag('app-only');

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const r1 = (x: number) => Math.round(x * 10) / 10;

interface Storm {
  label: string;
  clients: number;
  /** Before the outage: connect + join of every client, 100 at a time (closed loop), clients/s. */
  initialConnectPerSec: number;
  back: number;
  readyAfterKillMs: number;
  handshakesPerSec: number;
  peakHandshakesPerSec: number;
  handshakeAfterReadyMs: { p50: number; p99: number; max: number };
  joinedAfterReadyMs: { p50: number; p99: number; max: number };
  refusedHandshakes: number;
  errors: string[];
}

/** Connects the clients, kills the server, restarts it after the outage, waits until every client is back. */
async function storm(
  label: string,
  clients: ChatClient[],
  kill: () => Promise<void>,
  restart: () => Promise<void>,
): Promise<Storm> {
  const t0 = performance.now();
  await pool(clients, 100, (c) => c.start());
  const initialConnectPerSec = Math.round(clients.length / ((performance.now() - t0) / 1000));
  console.log(`${label}: ${clients.length} clients connected and joined in ${r1((performance.now() - t0) / 1000)} s (${initialConnectPerSec}/s)`);
  await sleep(PRE_MS);

  const handshakeAt = new Map<ChatClient, number>();
  const joinedAt = new Map<ChatClient, number>();
  for (const c of clients) {
    c.opts.onHandshake = (cl, at) => {
      if (!handshakeAt.has(cl)) handshakeAt.set(cl, at);
    };
    c.opts.onJoined = (cl, at) => {
      if (!joinedAt.has(cl)) joinedAt.set(cl, at);
    };
  }
  const killedAt = performance.now();
  await kill();
  console.log(`${label}: server killed; down for ${OUTAGE_MS / 1000} s`);
  await sleep(Math.max(0, OUTAGE_MS - (performance.now() - killedAt)));
  await restart();
  const readyAt = performance.now();
  console.log(`${label}: server ready again ${r1((readyAt - killedAt) / 1000)} s after the kill`);
  const deadline = Date.now() + BACK_TIMEOUT_MS;
  while (joinedAt.size < clients.length && Date.now() < deadline) await sleep(250);

  const hs = [...handshakeAt.values()].sort((a, b) => a - b);
  const js = [...joinedAt.values()].sort((a, b) => a - b);
  const start = Math.min(readyAt, hs[0] ?? readyAt);
  const span = (hs.at(-1) ?? start) - start;
  let peak = 0;
  for (let i = 0, j = 0; i < hs.length; i++) {
    while (hs[i] - hs[j] > 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  const rel = (xs: number[]) => {
    const d = xs.map((x) => x - readyAt);
    return { p50: Math.round(pct(d, 50)), p99: Math.round(pct(d, 99)), max: Math.round(d.at(-1) ?? NaN) };
  };
  const result: Storm = {
    label,
    clients: clients.length,
    initialConnectPerSec,
    back: joinedAt.size,
    readyAfterKillMs: Math.round(readyAt - killedAt),
    handshakesPerSec: Math.round(hs.length / Math.max(span / 1000, 0.001)),
    peakHandshakesPerSec: peak,
    handshakeAfterReadyMs: rel(hs),
    joinedAfterReadyMs: rel(js),
    refusedHandshakes: clients.reduce((a, c) => a + c.refused, 0),
    errors: [...new Set(clients.flatMap((c) => c.errors))].slice(0, 5),
  };
  console.log(
    `${label}: ${result.back}/${clients.length} back; ${result.handshakesPerSec} handshakes/s over the storm (peak ${peak} in 1 s); ` +
      `handshake after ready p50 ${result.handshakeAfterReadyMs.p50} / p99 ${result.handshakeAfterReadyMs.p99} ms, joined p99 ${result.joinedAfterReadyMs.p99} ms`,
  );
  return result;
}

async function bareStorm(): Promise<Storm> {
  let bare = await startBare();
  const port = bare.port;
  const clients = Array.from({ length: CLIENTS }, (_, i) => new ChatClient({ url: bare.url, auth: { userId: `u${i}` }, roomId: `room-${i % ROOMS}`, catchUp: false }));
  try {
    return await storm(
      'bare Socket.IO',
      clients,
      () => bare.kill('SIGKILL'),
      async () => {
        bare = await startBare({ port });
      },
    );
  } finally {
    clients.forEach((c) => c.close());
    await bare.kill('SIGTERM');
  }
}

async function appStorm(): Promise<{ storm: Storm; messages: number; missing: number; clientsMissing: number; restCatchUps: number; sendErrors: number }> {
  const db = `softchat_bench_storm_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${db}"`);
  const shared = { db, redisPrefix: `benchstorm${randomBytes(3).toString('hex')}`, jwtSecret: randomBytes(32).toString('hex') };
  const env = { THROTTLE_CHAT_MESSAGES: '10000000', THROTTLE_SOCKET_EVENTS_PER_SECOND: '100000', THROTTLE_SOCKET_BURST: '100000', JWT_ACCESS_TTL: '7200' };
  let a = await startApp(env, shared);
  const port = a.port;
  const b = await startApp(env, shared);
  const clients: ChatClient[] = [];
  let sending = true;
  let sendErrors = 0;
  const lastSeq = new Map<string, number>();
  let sent = 0;
  try {
    const users: BenchUser[] = await registerMany(a.url, USERS, 'storm');
    const rooms: string[] = [];
    for (let r = 0; r < ROOMS; r++) rooms.push((await api(a.url, 'POST', '/api/chat/rooms', { name: `storm ${r}` }, users[r % USERS].token)).id);
    // User u is a member of room u % ROOMS; client i is a tab of user i % USERS.
    await pool(users, 8, async (u, i) => {
      if (i >= ROOMS) await api(a.url, 'POST', `/api/chat/rooms/${rooms[i % ROOMS]}/join`, {}, u.token);
    });
    for (let i = 0; i < CLIENTS; i++) {
      const u = users[i % USERS];
      clients.push(new ChatClient({ url: a.url, auth: { token: u.token }, token: u.token, roomId: rooms[(i % USERS) % ROOMS], catchUp: CATCH_UP }));
    }
    // The room creators send through instance B, all along, at RATE messages/s round robin over the rooms.
    // `--rate 0` sends nothing: the storm is then handshakes and joins only, like bare's.
    const sender = (async () => {
      if (RATE <= 0) return;
      const every = 1000 / RATE;
      let next = performance.now();
      const inflight = new Set<Promise<void>>();
      while (sending) {
        const r = sent % ROOMS;
        const k = sent++;
        const p = api<{ seq: number }>(b.url, 'POST', `/api/chat/rooms/${rooms[r]}/messages`, { content: `storm ${k}`, clientMessageId: `storm-${k}` }, users[r].token).then(
          (m) => {
            lastSeq.set(rooms[r], Math.max(lastSeq.get(rooms[r]) ?? 0, m.seq));
          },
          () => {
            sendErrors++;
          },
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        next += every;
        await sleep(Math.max(0, next - performance.now()));
      }
      await Promise.all(inflight);
    })();
    const result = await storm(
      'app Socket.IO',
      clients,
      () => a.kill('SIGKILL'),
      async () => {
        a = await startApp(env, { ...shared, port });
      },
    );
    await sleep(2000);
    sending = false;
    await sender;
    // Live deliveries of the last messages: give them a moment, then count what is missing.
    const roomOf = (c: ChatClient) => c.opts.roomId;
    const deadline = Date.now() + 20_000;
    const behind = () => clients.filter((c) => c.hw < (lastSeq.get(roomOf(c)) ?? 0));
    while (behind().length && Date.now() < deadline) await sleep(250);
    const late = behind();
    const missing = late.reduce((acc, c) => acc + c.missing(lastSeq.get(roomOf(c)) ?? 0), 0);
    const messages = [...lastSeq.values()].reduce((x, y) => x + y, 0);
    console.log(
      `app Socket.IO: ${messages} chat messages stored (${sent} sent through instance B, ${sendErrors} refused); ` +
        `${late.length} clients missing ${missing} deliveries; ${clients.reduce((x, c) => x + c.catchUpRest, 0)} REST catch-up pages`,
    );
    return {
      storm: result,
      messages,
      missing,
      clientsMissing: late.length,
      restCatchUps: clients.reduce((x, c) => x + c.catchUpRest, 0),
      sendErrors,
    };
  } finally {
    sending = false;
    clients.forEach((c) => c.close());
    await b.kill('SIGTERM');
    await a.kill('SIGTERM');
    await adminQuery(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  }
}

async function main() {
  console.log(`bench/reconnect-storm: ${CLIENTS} clients in ${ROOMS} rooms, outage ${OUTAGE_MS / 1000} s, ${RATE} msg/s — ${machine()}`);
  const limit = fdLimit();
  if (Number.isFinite(limit) && limit < CLIENTS + 1000) throw new Error(`ulimit -n is ${limit}: raise it above ${CLIENTS + 1000} (the clients and the server each hold ${CLIENTS} sockets)`);
  const abort = setTimeout(() => {
    console.error(`reconnect-storm: over its ${MAX_MS / 60_000} minute budget; stopping`);
    process.exit(1);
  }, MAX_MS);
  abort.unref();
  const bare = ONLY_APP ? null : await bareStorm();
  const app = await appStorm();
  if (!bare) {
    console.log(`\nRESULT reconnect-storm (app only): ${app.storm.back}/${CLIENTS} back, ${app.missing} chat messages missing${CATCH_UP ? '' : ' (negative control: catch-up off)'}`);
    if (app.storm.back !== CLIENTS || app.missing) process.exitCode = 1;
    return;
  }
  const ratio = +(app.storm.handshakesPerSec / bare.handshakesPerSec).toFixed(3);
  const allBack = app.storm.back === CLIENTS && bare.back === CLIENTS;
  const ok = allBack && app.missing === 0;
  writeResult('reconnect-storm', {
    when: new Date().toISOString(),
    machine: machine(),
    config: { clients: CLIENTS, rooms: ROOMS, users: USERS, outageSeconds: OUTAGE_MS / 1000, rate: RATE },
    appEnv: appEnvOverrides(),
    bare,
    app,
    ratio,
    allBack,
    noMessageMissing: app.missing === 0,
    ok,
    loadAverage: loadavg(),
  });
  console.log(
    `\nRESULT reconnect-storm: ${app.storm.back}/${CLIENTS} app clients back (bare ${bare.back}/${CLIENTS}), ${app.missing} chat messages missing; ` +
      `handshakes/s app ${app.storm.handshakesPerSec} vs bare ${bare.handshakesPerSec} = ${ratio}×`,
  );
  if (!ok) {
    console.error(`reconnect-storm FAILED: ${allBack ? '' : 'not every client came back; '}${app.missing ? `${app.missing} deliveries missing` : ''}`);
    if (app.storm.errors.length) console.error(`client errors: ${app.storm.errors.join(' | ')}`);
    process.exitCode = 1;
  }
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
