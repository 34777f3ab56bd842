/**
 * bench/idle-sockets: server memory for N idle AUTHENTICATED Socket.IO sockets on the app against the
 * same N sockets on a bare Socket.IO server (bench/chat-fanout/bare-server.ts), in one run.
 *
 *   npm run bench:idle [-- --sockets 10000 --users 100 --settle-seconds 10]
 *
 * For each server: resident memory (VmRSS from /proc, summed over the server's process tree: a cluster
 * primary and its workers count together) once started and settled, then after connecting N sockets
 * (websocket transport, Engine.IO/Socket.IO wire protocol over `ws`, as a browser's socket.io-client
 * does after its upgrade) and letting them sit idle for --settle-seconds (each answers the server's
 * pings). The app's sockets authenticate with a JWT at the handshake and sit in their user's and
 * session's rooms, as every signed-in browser tab does. The app has no per-user socket cap, so a
 * modest number of registered users' tokens are shared across sockets (one tab per socket).
 * Ratio: app RSS / bare RSS with N sockets (and per socket, RSS added per socket). Loopback only;
 * the file-descriptor limit is checked first (each side holds N sockets).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { RawSocketIo, pool } from '../chat-fanout/clients';
import { appEnvOverrides, hasFlag, machine, numArg, registerMany, sleep, startApp, startBare, treePids, treeRssKiB, writeResult } from '../lib/harness';

const QUICK = hasFlag('quick');
const SOCKETS = numArg('sockets', QUICK ? 1000 : 10_000);
const USERS = numArg('users', QUICK ? 20 : 100);
const SETTLE_MS = numArg('settle-seconds', QUICK ? 3 : 10) * 1000;
const CONCURRENCY = numArg('concurrency', 50);
const MAX_MS = numArg('max-minutes', 8) * 60_000;

function fdLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  } catch {
    return NaN;
  }
}

/** Median of `n` RSS samples a second apart (a GC in one sample does not set the figure). */
async function settledRss(pid: number, n = 3): Promise<number> {
  const s: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i) await sleep(1000);
    s.push(treeRssKiB(pid));
  }
  return s.sort((a, b) => a - b)[Math.floor(n / 2)];
}

interface Side {
  label: string;
  processes: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  perSocketKiB: number;
  connectSeconds: number;
  connected: number;
}

async function measure(label: string, pid: number, url: string, authFor: (i: number) => Record<string, string>): Promise<Side> {
  await sleep(SETTLE_MS);
  const before = await settledRss(pid);
  const t0 = Date.now();
  const sockets = await pool(Array.from({ length: SOCKETS }, (_, i) => i), CONCURRENCY, (i) => RawSocketIo.connect(url, authFor(i), () => undefined));
  const connectSeconds = (Date.now() - t0) / 1000;
  await sleep(SETTLE_MS);
  const after = await settledRss(pid);
  const processes = treePids(pid).length;
  sockets.forEach((s) => s.close());
  const side = {
    label,
    processes,
    rssBeforeKiB: before,
    rssAfterKiB: after,
    perSocketKiB: +((after - before) / SOCKETS).toFixed(2),
    connectSeconds: +connectSeconds.toFixed(1),
    connected: sockets.length,
  };
  console.log(
    `${label}: ${sockets.length} sockets in ${side.connectSeconds} s; RSS ${(before / 1024).toFixed(1)} MiB → ${(after / 1024).toFixed(1)} MiB ` +
      `(${side.perSocketKiB} KiB per socket, ${processes} process${processes > 1 ? 'es' : ''})`,
  );
  return side;
}

async function main() {
  const limit = fdLimit();
  console.log(`bench/idle-sockets: ${SOCKETS} sockets, ${USERS} users — ${machine()}; ulimit -n ${limit}`);
  if (Number.isFinite(limit) && limit < SOCKETS + 1000) throw new Error(`ulimit -n is ${limit}: raise it above ${SOCKETS + 1000} (each side holds ${SOCKETS} sockets)`);
  const abort = setTimeout(() => {
    console.error(`idle-sockets: over its ${MAX_MS / 60_000} minute budget; stopping`);
    process.exit(1);
  }, MAX_MS);
  abort.unref();

  // Bare first, so the app's Postgres and Redis load is not in the machine while it is measured.
  const bare = await startBare();
  let bareSide: Side;
  try {
    bareSide = await measure('bare Socket.IO', bare.pid, bare.url, (i) => ({ userId: `u${i}` }));
  } finally {
    await bare.kill('SIGTERM');
  }

  // No per-user socket cap exists; the socket event limits do not apply to idle sockets.
  const app = await startApp({ THROTTLE_REGISTER_PER_MINUTE: '1000000' });
  let appSide: Side;
  try {
    const users = await registerMany(app.url, USERS, 'idle');
    appSide = await measure('app (authenticated)', app.pid, app.url, (i) => ({ token: users[i % USERS].token }));
  } finally {
    await app.stop();
  }

  const ratio = +(appSide.rssAfterKiB / bareSide.rssAfterKiB).toFixed(3);
  const perSocketRatio = +(appSide.perSocketKiB / bareSide.perSocketKiB).toFixed(3);
  const result = {
    when: new Date().toISOString(),
    machine: machine(),
    sockets: SOCKETS,
    users: USERS,
    settleSeconds: SETTLE_MS / 1000,
    appEnv: appEnvOverrides(),
    bare: bareSide,
    app: appSide,
    ratio,
    perSocketRatio,
    loadAverage: loadavg(),
  };
  writeResult('idle-sockets', result);
  console.log(
    `\n| server | RSS idle | RSS with ${SOCKETS} sockets | per socket |\n|---|---|---|---|\n` +
      [bareSide, appSide].map((s) => `| ${s.label} | ${(s.rssBeforeKiB / 1024).toFixed(1)} MiB | ${(s.rssAfterKiB / 1024).toFixed(1)} MiB | ${s.perSocketKiB} KiB |`).join('\n'),
  );
  console.log(`\nRESULT idle-sockets: app RSS / bare RSS with ${SOCKETS} sockets = ${ratio}× (per added socket ${perSocketRatio}×)`);
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
