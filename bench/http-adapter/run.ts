/**
 * bench/http-adapter: the same app under Express and under Fastify (HTTP_ADAPTER), both running
 * at once on their own databases, driven in interleaved rounds so both see the same machine minute:
 *   - transfer: `POST /api/wallet/:userId/transfer` (8 connections, as bench/ledger);
 *   - me:       `GET /api/auth/me` (auth guard + one primary-key read: mostly framework);
 *   - 404:      `GET /api/nope` unauthenticated (every middleware, no handler: framework only).
 * For each run: requests/s and the app process's CPU time per request (user+system from /proc).
 * `--profile` instead runs each app once under `node --cpu-prof` on the transfer route and
 * prints the self-time share per package (framework, Nest, pg, validation, app code...).
 * Usage: `ts-node --transpile-only bench/http-adapter/run.ts [--duration 8] [--rounds 3] [--profile]`.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, adminToken, api, dbUrl, machine, registerUsers, startApp, BenchUser, RunningApp } from '../lib/harness';
import { spawnSync } from 'node:child_process';
import { benchXpubs } from './keys';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const DURATION = arg('duration', 8);
const ROUNDS = arg('rounds', 3);
const CONNECTIONS = arg('connections', 8);
const PROFILE = process.argv.includes('--profile');
const ADAPTERS = ['express', 'fastify'] as const;
type Adapter = (typeof ADAPTERS)[number];

interface Target {
  adapter: Adapter;
  app: RunningApp;
  users: BenchUser[];
  profileDir?: string;
  profileWindow?: [number, number];
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function drive(url: string, request: autocannon.Request, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1, requests: [request] }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
    inst.on('error', reject);
  });
}

const workloads: Record<string, (t: Target) => autocannon.Request> = {
  transfer: (t) => {
    const rnd = (n: number) => Math.floor(Math.random() * n);
    return {
      method: 'POST',
      setupRequest: (req) => {
        const a = rnd(t.users.length);
        let b = rnd(t.users.length - 1);
        if (b >= a) b += 1;
        const [from, to] = [t.users[a], t.users[b]];
        return {
          ...req,
          path: `/api/wallet/${from.id}/transfer`,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${from.token}` },
          body: JSON.stringify({ toUserId: to.id, asset: 'USD', amount: '0.01' }),
        };
      },
    };
  },
  me: (t) => ({ method: 'GET', path: '/api/auth/me', headers: { authorization: `Bearer ${t.users[0].token}` } }),
  '404': () => ({ method: 'GET', path: '/api/nope' }),
};

async function boot(adapter: Adapter): Promise<Target> {
  let profileDir: string | undefined;
  if (PROFILE) {
    profileDir = mkdtempSync(join(tmpdir(), `cpuprof-${adapter}-`));
    process.env.BENCH_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profileDir}`;
  } else {
    delete process.env.BENCH_NODE_ARGS;
  }
  // Access tokens must outlive the run. On a busy machine a boot can miss the harness's 60 s:
  // the stray process is then stopped (by its own pid) and the boot tried once more.
  let app: RunningApp;
  try {
    app = await startApp({ ...benchXpubs(), HTTP_ADAPTER: adapter, JWT_ACCESS_TTL: '3600' });
  } catch (e) {
    console.warn(`boot of ${adapter} failed (${(e as Error).message}); retrying once`);
    for (const pid of strayApps()) process.kill(pid, 'SIGKILL');
    app = await startApp({ ...benchXpubs(), HTTP_ADAPTER: adapter, JWT_ACCESS_TTL: '3600' });
  }
  const admin = await adminToken(app.url);
  const users = await registerUsers(app.url, 32, `ha${adapter[0]}`);
  for (const u of users) {
    await api(app.url, 'POST', `/api/admin/wallet/${u.id}/deposit`, { asset: 'USD', amount: '100000000.00', reference: `bench-${u.id}` }, admin);
  }
  return { adapter, app, users, profileDir };
}

/** Children of this process running src/main.ts (a boot that timed out). */
function strayApps(): number[] {
  const out = spawnSync('pgrep', ['-P', String(process.pid), '-f', 'src/main.ts']).stdout?.toString() ?? '';
  return out.split('\n').filter(Boolean).map(Number);
}

interface Sample {
  rps: number;
  cpuMsPerReq: number;
  non2xx: number;
  p50: number;
  p99: number;
}

async function measure(t: Target, workload: string, seconds: number): Promise<Sample> {
  const pid = t.app.child.pid!;
  const c0 = cpuSeconds(pid);
  const r = await drive(t.app.url, workloads[workload](t), seconds);
  const c1 = cpuSeconds(pid);
  const total = r.requests.total || 1;
  return { rps: r.requests.average, cpuMsPerReq: ((c1 - c0) * 1000) / total, non2xx: r.non2xx, p50: r.latency.p50, p99: r.latency.p99 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Self time per package from a V8 .cpuprofile, counting only samples inside `window` (µs of
 * CLOCK_MONOTONIC, which V8's profile timestamps and process.hrtime share across processes).
 */
function profileShares(dir: string, window: [number, number], attributeNative: boolean): Record<string, number> {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return {};
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    startTime: number;
    nodes: { id: number; callFrame: { url: string; functionName: string }; children?: number[] }[];
    samples: number[];
    timeDeltas: number[];
  };
  const kind = new Map<number, string>();
  for (const n of prof.nodes) kind.set(n.id, classify(n.callFrame.url, n.callFrame.functionName));
  if (attributeNative) {
    // Native code and Node's own library (JSON, crypto, streams, sockets) billed to the nearest
    // calling package: who caused the work rather than where the CPU sat.
    const parent = new Map<number, number>();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const billed = new Map<number, string>();
    const bill = (id: number): string => {
      const known = billed.get(id);
      if (known) return known;
      const k = kind.get(id)!;
      const p = parent.get(id);
      const r = (k === 'node (native)' || k === 'node (lib)') && p !== undefined ? bill(p) : k;
      billed.set(id, r === '(root)' ? k : r);
      return billed.get(id)!;
    };
    for (const n of prof.nodes) bill(n.id);
    for (const [id, k] of billed) kind.set(id, k);
  }
  const time: Record<string, number> = {};
  let ts = prof.startTime;
  prof.samples.forEach((id, i) => {
    ts += prof.timeDeltas[i] ?? 0;
    if (ts < window[0] || ts > window[1]) return;
    const k = kind.get(id) ?? 'other';
    time[k] = (time[k] ?? 0) + (prof.timeDeltas[i] ?? 0);
  });
  delete time['(idle)'];
  const total = Object.values(time).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries(time)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, +((100 * v) / total).toFixed(1)]),
  );
}

function classify(url: string, fn: string): string {
  if (!url) return ['(garbage collector)', '(idle)', '(program)', '(root)'].includes(fn) ? fn : 'node (native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url.replace(/\\/g, '/'));
  if (m) {
    const pkg = m[1];
    if (/^(helmet|cors|vary)$/.test(pkg)) return 'helmet & cors';
    if (/^(express|body-parser|router|raw-body|finalhandler|send|serve-static|on-finished|type-is|content-type|iconv-lite|qs|accepts|negotiator|path-to-regexp|cookie|statuses|http-errors|depd|encodeurl|escape-html|parseurl|proxy-addr|forwarded|etag|fresh|merge-descriptors|mime-types|mime-db)$/.test(pkg))
      return 'express & connect middleware';
    if (/^(fastify|@fastify\/.*|find-my-way|light-my-request|avvio|secure-json-parse|fast-json-stringify|toad-cache|abstract-logging|process-warning|fast-querystring|rfdc)$/.test(pkg)) return 'fastify';
    if (pkg.startsWith('@nestjs/')) return pkg;
    if (/^(class-validator|class-transformer|validator|libphonenumber-js)$/.test(pkg)) return 'validation';
    if (/^(pg|pg-protocol|pg-pool|pg-types|postgres-.*|pgpass)$/.test(pkg)) return 'pg';
    if (pkg === 'typeorm') return 'typeorm';
    if (/^(pino|pino-http|nestjs-pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact|on-exit-leak-free)$/.test(pkg)) return 'logging (pino)';
    if (/^(ioredis|@ioredis\/.*|redis-parser|denque|cluster-key-slot|standard-as-callback)$/.test(pkg)) return 'redis';
    if (/^(rxjs|tslib|reflect-metadata)$/.test(pkg)) return 'rxjs/tslib';
    if (/^(prom-client|tdigest|bintrees)$/.test(pkg)) return 'metrics';
    if (/^(jsonwebtoken|jws|jwa|@nestjs\/jwt|passport.*|ecdsa-sig-formatter|safe-buffer)$/.test(pkg)) return 'jwt/passport';
    if (/^(ts-node|typescript|source-map-support|@cspotcode\/.*)$/.test(pkg)) return 'ts-node (load only)';
    return `other: ${pkg}`;
  }
  if (url.includes('/src/')) return 'app code (src/)';
  if (url.startsWith('node:')) return 'node (lib)';
  return 'other';
}

function printShares(adapter: string, dir: string, window: [number, number]) {
  const self = profileShares(dir, window, false);
  const billed = profileShares(dir, window, true);
  console.log(`\nshare of busy CPU during the transfer run under ${adapter} (profile in ${dir}, window ${window.join('-')} µs)`);
  console.log(`  self time   | native+node lib billed to caller | what`);
  const keys = [...new Set([...Object.keys(billed), ...Object.keys(self)])].sort((a, b) => (billed[b] ?? 0) - (billed[a] ?? 0));
  for (const k of keys) if ((billed[k] ?? 0) >= 0.3 || (self[k] ?? 0) >= 0.3) console.log(`  ${String(self[k] ?? 0).padStart(5)} %     | ${String(billed[k] ?? 0).padStart(5)} %                          | ${k}`);
}

async function main() {
  // `--analyze <adapter> <dir> <from> <to>`: re-read a saved profile.
  const ai = process.argv.indexOf('--analyze');
  if (ai > 0) {
    const [adapter, dir, from, to] = process.argv.slice(ai + 1);
    return printShares(adapter, dir, [Number(from), Number(to)]);
  }
  console.log(`bench/http-adapter: ${PROFILE ? 'profile' : `${ROUNDS} rounds × ${DURATION}s`} per workload, ${CONNECTIONS} connections — ${machine()}`);
  const targets: Target[] = [];
  try {
    for (const a of ADAPTERS) targets.push(await boot(a));
    // Warm-up (JIT, pools, plans): not measured.
    for (const t of targets) for (const w of Object.keys(workloads)) await drive(t.app.url, workloads[w](t), 2);

    if (PROFILE) {
      for (const t of targets) {
        const start = nowMicros();
        const r = await measure(t, 'transfer', DURATION);
        t.profileWindow = [start, nowMicros()];
        console.log(`${t.adapter} (profiled): ${r.rps.toFixed(0)} transfers/s, ${r.cpuMsPerReq.toFixed(3)} CPU ms/request, non-2xx ${r.non2xx}`);
      }
    } else {
      const results: Record<string, Record<Adapter, Sample[]>> = {};
      for (let round = 0; round < ROUNDS; round++) {
        for (const w of Object.keys(workloads)) {
          results[w] ??= { express: [], fastify: [] };
          // Alternate which adapter goes first, so neither always gets the warmer minute.
          const order = round % 2 ? [...targets].reverse() : targets;
          for (const t of order) results[w][t.adapter].push(await measure(t, w, DURATION));
        }
      }
      console.log(`\n| workload | express req/s | fastify req/s | fastify/express | express CPU ms/req | fastify CPU ms/req | CPU fastify/express | non-2xx e/f |`);
      console.log(`|---|---|---|---|---|---|---|---|`);
      const summary: Record<string, unknown> = {};
      for (const [w, r] of Object.entries(results)) {
        const e = median(r.express.map((s) => s.rps));
        const f = median(r.fastify.map((s) => s.rps));
        const ec = median(r.express.map((s) => s.cpuMsPerReq));
        const fc = median(r.fastify.map((s) => s.cpuMsPerReq));
        const bad = (xs: Sample[]) => xs.reduce((a, s) => a + s.non2xx, 0);
        console.log(`| ${w} | ${e.toFixed(0)} | ${f.toFixed(0)} | ${(f / e).toFixed(2)} | ${ec.toFixed(3)} | ${fc.toFixed(3)} | ${(fc / ec).toFixed(2)} | ${bad(r.express)}/${bad(r.fastify)} |`);
        summary[w] = { express: r.express, fastify: r.fastify };
      }
      console.log(`\nper-round samples: ${JSON.stringify(summary)}`);
    }
    for (const t of targets) {
      const check = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'scripts', 'ledger-verify.ts')], {
        env: { ...process.env, DATABASE_URL: dbUrl(t.app.db) },
      }).toString();
      console.log(`ledger:verify (${t.adapter}): ${check.trim().split('\n').pop()}`);
    }
  } finally {
    for (const t of targets) await t.app.stop();
  }
  if (PROFILE) {
    for (const t of targets) {
      printShares(t.adapter, t.profileDir!, t.profileWindow!);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
