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
 * `--heap` (diagnosis, not the row's figure): both servers start with `--inspect=127.0.0.1:0`, and after
 * the RSS samples each gets a forced GC through the inspector; the used heap then, before and with the
 * sockets, tells memory the sockets retain from garbage not yet collected. `--heap-profile` also runs V8's
 * sampling heap profiler while the sockets connect and settle, and writes what is still alive after the
 * GC to bench/results/idle-sockets-<server>.heapprofile (open in Chrome DevTools → Memory), printing the
 * top allocation sites.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { RawSocketIo, pool } from '../chat-fanout/clients';
import { Inspector, heapAfterGc, inspectorUrls } from '../lib/inspector';
import { ROOT, appEnvOverrides, fdLimit, hasFlag, machine, numArg, registerMany, sleep, startApp, startBare, treePids, treeRssKiB, writeResult } from '../lib/harness';

const QUICK = hasFlag('quick');
const SOCKETS = numArg('sockets', QUICK ? 1000 : 10_000);
const USERS = numArg('users', QUICK ? 20 : 100);
const SETTLE_MS = numArg('settle-seconds', QUICK ? 3 : 10) * 1000;
const CONCURRENCY = numArg('concurrency', 50);
const MAX_MS = numArg('max-minutes', 8) * 60_000;
const HEAP_PROFILE = hasFlag('heap-profile');
const HEAP = hasFlag('heap') || HEAP_PROFILE;

/** Median of `n` RSS samples a second apart (a GC in one sample does not set the figure). */
async function settledRss(pid: number, n = 3): Promise<number> {
  const s: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i) await sleep(1000);
    s.push(treeRssKiB(pid));
  }
  return s.sort((a, b) => a - b)[Math.floor(n / 2)];
}

/** The sampling profile's self sizes summed per function and place, the biggest first. */
function topSites(profile: any, n = 12): string {
  const sites = new Map<string, number>();
  const walk = (node: any) => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '')}:${f.lineNumber + 1}`;
    sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    for (const c of node.children ?? []) walk(c);
  };
  walk(profile.head);
  return [...sites.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${(v / 2 ** 20).toFixed(1).padStart(7)} MiB  ${k}`)
    .join('\n');
}

function writeFile(name: string, text: string) {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', name), text);
}

interface Side {
  label: string;
  processes: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  perSocketKiB: number;
  connectSeconds: number;
  connected: number;
  /** With --heap: used heap after a forced GC, summed over the inspected processes (bytes). */
  heapBeforeBytes?: number;
  heapAfterBytes?: number;
}

/** With --heap: the server's inspectors, from its stderr. */
async function openInspectors(stderr: () => string): Promise<Inspector[]> {
  if (!HEAP) return [];
  const urls = inspectorUrls(stderr());
  if (!urls.length) throw new Error('--heap: no inspector found in the server\'s output');
  return Promise.all(urls.map((u) => Inspector.open(u)));
}
const usedHeap = async (ins: Inspector[]) => (ins.length ? (await heapAfterGc(ins)).reduce((a, h) => a + h.used, 0) : undefined);

async function measure(label: string, pid: number, url: string, authFor: (i: number) => Record<string, string>, ins: Inspector[]): Promise<Side> {
  await sleep(SETTLE_MS);
  const before = await settledRss(pid);
  const heapBefore = await usedHeap(ins);
  if (HEAP_PROFILE) for (const i of ins) await i.call('HeapProfiler.startSampling', { samplingInterval: 16384 });
  const t0 = Date.now();
  const sockets = await pool(Array.from({ length: SOCKETS }, (_, i) => i), CONCURRENCY, (i) => RawSocketIo.connect(url, authFor(i), () => undefined));
  const connectSeconds = (Date.now() - t0) / 1000;
  await sleep(SETTLE_MS);
  const after = await settledRss(pid);
  const heapAfter = await usedHeap(ins);
  if (HEAP_PROFILE) {
    for (const [n, i] of ins.entries()) {
      const { profile } = await i.call<{ profile: any }>('HeapProfiler.getSamplingProfile');
      await i.call('HeapProfiler.stopSampling');
      const name = `idle-sockets-${label.split(' ')[0].toLowerCase()}${ins.length > 1 ? `-${n}` : ''}.heapprofile`;
      writeFile(name, JSON.stringify(profile));
      console.log(`${label}: live allocations after GC by site (sampled; ${name}):\n${topSites(profile)}`);
    }
  }
  ins.forEach((i) => i.close());
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
    heapBeforeBytes: heapBefore,
    heapAfterBytes: heapAfter,
  };
  console.log(
    `${label}: ${sockets.length} sockets in ${side.connectSeconds} s; RSS ${(before / 1024).toFixed(1)} MiB → ${(after / 1024).toFixed(1)} MiB ` +
      `(${side.perSocketKiB} KiB per socket, ${processes} process${processes > 1 ? 'es' : ''})` +
      (heapBefore !== undefined && heapAfter !== undefined
        ? `; heap after GC ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MiB (${((heapAfter - heapBefore) / 1024 / SOCKETS).toFixed(2)} KiB per socket)`
        : ''),
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
  const inspect = HEAP ? ['--inspect=127.0.0.1:0'] : [];
  let bareErr = '';
  const bare = await startBare({ nodeArgs: inspect, onStderr: HEAP ? (d) => (bareErr += d) : undefined });
  let bareSide: Side;
  try {
    bareSide = await measure('bare Socket.IO', bare.pid, bare.url, (i) => ({ userId: `u${i}` }), await openInspectors(() => bareErr));
  } finally {
    await bare.kill('SIGTERM');
  }

  // No per-user socket cap exists; the socket event limits do not apply to idle sockets.
  let appErr = '';
  const app = await startApp({ THROTTLE_REGISTER_PER_MINUTE: '1000000' }, { nodeArgs: inspect, onStderr: HEAP ? (d) => (appErr += d) : undefined });
  let appSide: Side;
  try {
    const users = await registerMany(app.url, USERS, 'idle');
    appSide = await measure('app (authenticated)', app.pid, app.url, (i) => ({ token: users[i % USERS].token }), await openInspectors(() => appErr));
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
