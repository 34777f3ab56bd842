/**
 * bench/ledger: wallet transfers per second through the HTTP API (8 concurrent clients,
 * uniform and with one hot account) against `pgbench -b tpcb-like -c 8` on the same Postgres,
 * in the same run. Usage: `npm run bench:ledger [-- --duration 10]`.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ledgerVerify, adminQuery, adminToken, api, dbUrl, machine, registerUsers, startApp, BenchUser } from '../lib/harness';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const DURATION = arg('duration', 10);
const CONNECTIONS = arg('connections', 8);

async function fund(url: string, admin: string, users: BenchUser[]) {
  for (const u of users) {
    await api(url, 'POST', `/api/admin/wallet/${u.id}/deposit`, { asset: 'USD', amount: '100000000.00', reference: `bench-${u.id}` }, admin);
  }
}

function runTransfers(url: string, pick: () => [BenchUser, BenchUser]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: DURATION,
        pipelining: 1,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const [from, to] = pick();
              return {
                ...req,
                path: `/api/wallet/${from.id}/transfer`,
                headers: { 'content-type': 'application/json', authorization: `Bearer ${from.token}` },
                body: JSON.stringify({ toUserId: to.id, asset: 'USD', amount: '0.01' }),
              };
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    inst.on('error', reject);
  });
}

function pgbench(): number {
  const db = 'softchat_bench_pgbench';
  execFileSync('psql', [dbUrl('postgres'), '-q', '-c', `DROP DATABASE IF EXISTS ${db}`, '-c', `CREATE DATABASE ${db}`]);
  execFileSync('pgbench', ['-i', '-q', '-s', '10', dbUrl(db)], { stdio: 'ignore' });
  const out = execFileSync('pgbench', ['-b', 'tpcb-like', '-c', String(CONNECTIONS), '-j', '2', '-T', String(DURATION), '-n', dbUrl(db)]).toString();
  execFileSync('psql', [dbUrl('postgres'), '-q', '-c', `DROP DATABASE IF EXISTS ${db}`]);
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
  if (!m) throw new Error(`could not read pgbench output:\n${out}`);
  return Number(m[1]);
}

async function main() {
  console.log(`bench/ledger: ${DURATION}s per phase, ${CONNECTIONS} connections — ${machine()}`);
  const app = await startApp();
  try {
    const admin = await adminToken(app.url);
    const users = await registerUsers(app.url, 32, 'lb');
    const hot = (await registerUsers(app.url, 1, 'hot'))[0];
    await fund(app.url, admin, users);
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const pair = (): [BenchUser, BenchUser] => {
      const a = rnd(users.length);
      let b = rnd(users.length - 1);
      if (b >= a) b += 1;
      return [users[a], users[b]];
    };
    // Warm-up (JIT, pools, plans) is not measured.
    await new Promise((r) => setTimeout(r, 200));
    const uniform = await runTransfers(app.url, pair);
    const hotRun = await runTransfers(app.url, () => [users[rnd(users.length)], hot]);
    // scripts/ledger-verify from the same build; exits non-zero (and so throws here) on any breach.
    const check = ledgerVerify(app.db);
    const pgTps = pgbench();

    const summarize = (r: autocannon.Result) => ({
      tps: Math.round(r.requests.average),
      ok: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors,
      p50: r.latency.p50,
      p99: r.latency.p99,
    });
    const result = {
      when: new Date().toISOString(),
      machine: machine(),
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      pgbenchTpcbLikeTps: Math.round(pgTps),
      uniform: summarize(uniform),
      hotAccount: summarize(hotRun),
      ratioUniform: +(uniform.requests.average / pgTps).toFixed(3),
      ratioHot: +(hotRun.requests.average / pgTps).toFixed(3),
      ledgerVerify: check,
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'ledger.json'), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `\n| workload | transfers/s | p50 ms | p99 ms | vs pgbench |\n|---|---|---|---|---|\n` +
        `| pgbench tpcb-like -c ${CONNECTIONS} | ${result.pgbenchTpcbLikeTps} | | | 1.00 |\n` +
        `| HTTP transfers, uniform | ${result.uniform.tps} | ${result.uniform.p50} | ${result.uniform.p99} | ${result.ratioUniform} |\n` +
        `| HTTP transfers, one hot account | ${result.hotAccount.tps} | ${result.hotAccount.p50} | ${result.hotAccount.p99} | ${result.ratioHot} |`,
    );
    if (uniform.non2xx || hotRun.non2xx) console.log('note: some requests were not 2xx (see counts above)');
  } finally {
    await app.stop();
    await adminQuery('SELECT 1');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
