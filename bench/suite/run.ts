/**
 * `npm run bench`: every row of issue 16's table from one run, one benchmark after the other (never in
 * parallel: they would load each other), each a child process started from the same build, then a
 * summary table of the ratios with the floor and aim.
 *
 *   npm run bench                       the suite (shorter phases than the scripts' defaults; < 20 min)
 *   npm run bench -- --quick            a smoke run of every row at small scale (a few minutes)
 *   options: --only ledger,orders,chat,idle,reconnect,soak   --skip chat   --soak-minutes 30
 *            --env KEY=VALUE (repeatable; to every app), and the lever switches from the environment
 *            (WEB_CONCURRENCY, LEDGER_GROUP_COMMIT, GRAPHQL_SHARED_EXECUTION, AUTH_CACHE_TTL_MS: bench/lib/app-env.ts)
 *
 * A benchmark that fails (or runs past its time limit) is reported as such and the suite goes on; the
 * exit code is 1 if any failed. Results: bench/results/<name>.json and bench/results/suite.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { envArgs } from '../lib/app-env';
import { ROOT, appEnvOverrides, buildDir, hasFlag, machine, numArg, writeResult } from '../lib/harness';

const QUICK = hasFlag('quick');
const listArg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1].split(',').filter(Boolean) : null;
};
const ONLY = listArg('only');
const SKIP = listArg('skip') ?? [];
const SOAK_MINUTES = numArg('soak-minutes', QUICK ? 1 : 3);

interface Step {
  key: string;
  script: string;
  args: string[];
  /** Hard limit for the child, minutes. */
  limitMinutes: number;
}

const STEPS: Step[] = QUICK
  ? [
      { key: 'ledger', script: 'ledger', args: ['--duration', '3'], limitMinutes: 4 },
      { key: 'orders', script: 'orders', args: ['--duration', '3'], limitMinutes: 4 },
      { key: 'chat', script: 'chat-fanout', args: ['--quick', '--step-seconds', '1', '--no-redis-baseline', '--max-minutes', '4'], limitMinutes: 5 },
      { key: 'idle', script: 'idle-sockets', args: ['--quick'], limitMinutes: 4 },
      { key: 'reconnect', script: 'reconnect-storm', args: ['--quick', '--clients', '300', '--outage-seconds', '5'], limitMinutes: 5 },
      { key: 'soak', script: 'soak', args: ['--quick', '--minutes', String(SOAK_MINUTES)], limitMinutes: SOAK_MINUTES + 4 },
    ]
  : [
      { key: 'ledger', script: 'ledger', args: ['--duration', '8'], limitMinutes: 4 },
      { key: 'orders', script: 'orders', args: ['--duration', '6'], limitMinutes: 4 },
      { key: 'chat', script: 'chat-fanout', args: ['--step-seconds', '2', '--no-redis-baseline', '--max-minutes', '6'], limitMinutes: 7 },
      { key: 'idle', script: 'idle-sockets', args: ['--sockets', '10000', '--settle-seconds', '8'], limitMinutes: 6 },
      { key: 'reconnect', script: 'reconnect-storm', args: ['--clients', '5000', '--outage-seconds', '10'], limitMinutes: 8 },
      { key: 'soak', script: 'soak', args: ['--minutes', String(SOAK_MINUTES)], limitMinutes: SOAK_MINUTES + 4 },
    ];

const RESULT_FILE: Record<string, string> = {
  ledger: 'ledger.json',
  orders: 'orders.json',
  chat: 'chat-fanout.json',
  idle: 'idle-sockets.json',
  reconnect: 'reconnect-storm.json',
  soak: 'soak.json',
};

function run(step: Step, build: string): Promise<{ code: number; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(build, 'bench', step.script, 'run.js'), ...step.args, ...envArgs()], {
      cwd: ROOT,
      env: { ...process.env, BENCH_BUILD: build, BENCH_REPO: ROOT },
      stdio: 'inherit',
    });
    const limit = setTimeout(() => {
      console.error(`\nsuite: ${step.key} ran past its ${step.limitMinutes} minute limit; stopping it`);
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, step.limitMinutes * 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      resolve({ code: code ?? (signal ? 1 : 0), seconds: Math.round((Date.now() - t0) / 1000) });
    });
  });
}

/** A result file written by this run (not one left over from an earlier run). */
function readResult(key: string, since: number): any | null {
  const f = join(ROOT, 'bench', 'results', RESULT_FILE[key]);
  if (!existsSync(f) || statSync(f).mtimeMs < since) return null;
  return JSON.parse(readFileSync(f, 'utf8'));
}

interface Row {
  path: string;
  value: string;
  floor: string;
  aim: string;
  verdict: string;
}

const fmtRatio = (x: number | undefined | null) => (typeof x === 'number' && Number.isFinite(x) ? `${Math.round(x * 100)} %` : 'n/a');
/** Higher is better: "aim met", "floor met", "below floor". */
const judge = (x: number | undefined | null, floor: number, aim: number) =>
  typeof x !== 'number' || !Number.isFinite(x) ? 'no result' : x >= aim ? 'aim met' : x >= floor ? 'floor met' : 'BELOW FLOOR';

function rows(r: Record<string, any>): Row[] {
  const out: Row[] = [];
  const l = r.ledger;
  out.push({
    path: 'transfers, 8 clients, vs pgbench tpcb-like -c 8',
    value: l ? `${fmtRatio(l.ratioUniform)} (${l.uniform.tps} vs ${l.pgbenchTpcbLikeTps} tps)` : 'n/a',
    floor: '40 %',
    aim: '≥ 100 %',
    verdict: judge(l?.ratioUniform, 0.4, 1),
  });
  out.push({
    path: 'same, every transfer into one hot account',
    value: l ? `${fmtRatio(l.ratioHot)} (${l.hotAccount.tps} tps)` : 'n/a',
    floor: '40 %',
    aim: '≥ 100 %',
    verdict: judge(l?.ratioHot, 0.4, 1),
  });
  const o = r.orders;
  out.push({
    path: 'limit orders that fill, end to end, vs transfers',
    value: o ? `${fmtRatio(o.ratioOnePairToTransfers)} one pair, ${fmtRatio(o.ratioFourPairsToTransfers)} four (${o.onePair.perSecond} vs ${o.transfers.perSecond}/s)` : 'n/a',
    floor: '80 %',
    aim: '100 %',
    verdict: judge(o?.ratioOnePairToTransfers, 0.8, 1),
  });
  const c = r.chat;
  const bestOf = (label: string) => c?.targets?.find((t: any) => t.label === label)?.best?.deliveredPerSec;
  out.push({
    path: 'chat fan-out, started as users start it, vs bare Socket.IO',
    value: c ? `${fmtRatio(c.appSioVsBare)} (${Math.round(bestOf('app Socket.IO') ?? NaN)} vs ${Math.round(bestOf('bare Socket.IO') ?? NaN)} deliveries/s)` : 'n/a',
    floor: '70 %',
    aim: '90 %',
    verdict: judge(c?.appSioVsBare, 0.7, 0.9),
  });
  out.push({
    path: "graphql-ws messageAdded vs the app's Socket.IO",
    value: c ? `${fmtRatio(c.gqlVsAppSio)} (${Math.round(bestOf('app graphql-ws') ?? NaN)} deliveries/s)` : 'n/a',
    floor: '60 %',
    aim: '90 %',
    verdict: judge(c?.gqlVsAppSio, 0.6, 0.9),
  });
  const i = r.idle;
  out.push({
    path: `${i?.sockets ?? 10000} idle authenticated sockets: server RSS vs bare`,
    value: i ? `${i.ratio}× (${Math.round(i.app.rssAfterKiB / 1024)} vs ${Math.round(i.bare.rssAfterKiB / 1024)} MiB; per socket ${i.perSocketRatio}×)` : 'n/a',
    floor: '≤ 1.5×',
    aim: '≤ 1.2×',
    verdict: !i ? 'no result' : i.ratio <= 1.2 ? 'aim met' : i.ratio <= 1.5 ? 'floor met' : 'BELOW FLOOR',
  });
  const s = r.reconnect;
  out.push({
    path: `${s?.config?.clients ?? 5000} clients reconnecting after a ${s?.config?.outageSeconds ?? 10} s outage`,
    value: s
      ? `${s.app.storm.back}/${s.config.clients} back, ${s.app.missing} missed; handshakes ${fmtRatio(s.ratio)} of bare (${s.app.storm.handshakesPerSec} vs ${s.bare.handshakesPerSec}/s)`
      : 'n/a',
    floor: 'all back, no missed message',
    aim: 'handshakes ≥ 50 % of bare',
    verdict: !s ? 'no result' : !s.ok ? 'BELOW FLOOR' : s.ratio >= 0.5 ? 'aim met' : 'floor met',
  });
  const k = r.soak;
  out.push({
    path: `soak (${k?.config?.minutes ?? SOAK_MINUTES} min): chat + presence + reconnect churn`,
    value: k ? `heap ${k.heapGrowthPct >= 0 ? '+' : ''}${k.heapGrowthPct} % after warm-up, RSS ${k.rssGrowthPct >= 0 ? '+' : ''}${k.rssGrowthPct} %, ${k.deliveriesMissing} lost` : 'n/a',
    floor: 'heap growth < 10 %',
    aim: 'flat',
    verdict: !k ? 'no result' : !k.ok ? 'BELOW FLOOR (lost delivery)' : k.heapGrowthPct < 2 ? 'aim met' : k.heapGrowthPct < 10 ? 'floor met' : 'BELOW FLOOR',
  });
  return out;
}

async function main() {
  const startedAt = Date.now();
  const build = buildDir();
  console.log(`bench suite${QUICK ? ' (quick)' : ''} — ${machine()}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const env = appEnvOverrides();
  if (Object.keys(env).length) console.log(`app environment overrides: ${JSON.stringify(env)}`);
  const results: Record<string, any> = {};
  const runs: Record<string, { code: number; seconds: number }> = {};
  for (const step of STEPS) {
    if ((ONLY && !ONLY.includes(step.key)) || SKIP.includes(step.key)) continue;
    console.log(`\n======== ${step.key}: bench/${step.script} ${step.args.join(' ')}`);
    const since = Date.now();
    runs[step.key] = await run(step, build);
    results[step.key] = readResult(step.key, since);
    console.log(`======== ${step.key}: exit ${runs[step.key].code} after ${runs[step.key].seconds} s`);
  }
  const table = rows(results).filter((_, idx) => {
    const keys = ['ledger', 'ledger', 'orders', 'chat', 'chat', 'idle', 'reconnect', 'soak'];
    return runs[keys[idx]] !== undefined;
  });
  const minutes = (Date.now() - startedAt) / 60_000;
  console.log(`\nSummary (one run, ${minutes.toFixed(1)} min, load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}):\n`);
  console.log('| path | this run | floor | aim | verdict |\n|---|---|---|---|---|');
  for (const r of table) console.log(`| ${r.path} | ${r.value} | ${r.floor} | ${r.aim} | ${r.verdict} |`);
  const failed = Object.entries(runs).filter(([, r]) => r.code !== 0);
  for (const [k, r] of failed) console.log(`\n${k} FAILED (exit ${r.code}); its row above is ${results[k] ? 'from its partial result' : 'empty'}`);
  writeResult('suite', { when: new Date().toISOString(), machine: machine(), quick: QUICK, appEnv: env, minutes: +minutes.toFixed(1), runs, rows: table });
  if (failed.length) process.exitCode = 1;
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
