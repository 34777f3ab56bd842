/**
 * bench/orders: orders per second end to end — HTTP → validation → pair lock → hold → match →
 * ledger settlement of every fill → commit → fan-out (Socket.IO through Redis, GraphQL PubSub) —
 * with the ack latency (p50/p99), against the ledger's own transfer figure measured in the same
 * run on the same app. Loopback only, bounded: `npm run bench:orders [-- --duration 10 --connections 8]`.
 *
 * Phases: (1) wallet transfers (the ledger baseline), (2) limit orders on ONE pair, about half of
 * them crossing (the one-writer-per-pair path at its busiest), (3) the same spread over the four
 * pairs (pairs match in parallel). Socket.IO observers in every trading room and the users' own
 * sockets count what the fan-out delivered. Afterwards the ledger is verified and the books are
 * checked not to be crossed.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { io, Socket } from 'socket.io-client';
import { ROOT, ledgerVerify, adminToken, api, dbUrl, machine, registerUsers, startApp, BenchUser } from '../lib/harness';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const DURATION = arg('duration', 10);
const CONNECTIONS = arg('connections', 8);
const USERS = 16;

interface PairGen {
  id: string;
  mid: number;
  tick: number;
  decimals: number;
  lot: number;
  qtyDecimals: number;
}
const PAIRS: PairGen[] = [
  { id: 'BTC-USD', mid: 30000, tick: 1, decimals: 2, lot: 0.001, qtyDecimals: 4 },
  { id: 'ETH-USD', mid: 3000, tick: 0.5, decimals: 2, lot: 0.01, qtyDecimals: 3 },
  { id: 'BTC-USDT', mid: 30000, tick: 1, decimals: 2, lot: 0.001, qtyDecimals: 5 },
  { id: 'ETH-BTC', mid: 0.05, tick: 0.00001, decimals: 6, lot: 0.01, qtyDecimals: 4 },
];

/** A limit order around the pair's mid: ±20 ticks each side, so about half of them cross. */
function orderBody(p: PairGen) {
  const side = Math.random() < 0.5 ? 'buy' : 'sell';
  const offset = Math.floor(Math.random() * 41) - 20;
  const price = (p.mid + offset * p.tick).toFixed(p.decimals);
  const quantity = (p.lot * (1 + Math.floor(Math.random() * 5))).toFixed(p.qtyDecimals);
  return { pairId: p.id, side, type: 'limit', price, quantity };
}

function cannon(url: string, setup: () => { path: string; token: string; body: unknown }): Promise<autocannon.Result> {
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
              const s = setup();
              return { ...req, path: s.path, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` }, body: JSON.stringify(s.body) };
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    inst.on('error', reject);
  });
}

async function connect(url: string, token: string): Promise<Socket> {
  const s = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((res, rej) => {
    s.once('connect', () => res());
    s.once('connect_error', rej);
  });
  return s;
}

async function main() {
  console.log(`bench/orders: ${DURATION}s per phase, ${CONNECTIONS} connections — ${machine()}`);
  const app = await startApp();
  const sockets: Socket[] = [];
  const db = new Client({ connectionString: dbUrl(app.db) });
  try {
    const admin = await adminToken(app.url);
    const users = await registerUsers(app.url, USERS, 'ob');
    for (const u of users) {
      for (const [asset, amount] of [
        ['USD', '100000000.00'],
        ['USDT', '100000000'],
        ['BTC', '10000'],
        ['ETH', '100000'],
      ]) {
        await api(app.url, 'POST', `/api/admin/wallet/${u.id}/deposit`, { asset, amount, reference: `bench-${u.id}-${asset}` }, admin);
      }
    }
    // Fan-out observers: one socket per user (their private order_update), plus watchers in every trading room.
    const counts = { order_update: 0, orderbook_update: 0, trade_executed: 0 };
    for (const u of users) {
      const s = await connect(app.url, u.token);
      s.on('order_update', () => counts.order_update++);
      sockets.push(s);
    }
    const watchers = await registerUsers(app.url, 4, 'obw');
    for (const w of watchers) {
      const s = await connect(app.url, w.token);
      for (const p of PAIRS) await s.timeout(5000).emitWithAck('join_trading_room', { tradingPairId: p.id });
      s.on('orderbook_update', () => counts.orderbook_update++);
      s.on('trade_executed', () => counts.trade_executed++);
      sockets.push(s);
    }
    await db.connect();
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const pick = (): BenchUser => users[rnd(users.length)];

    // (1) The ledger baseline: transfers on the same app.
    const transfers = await cannon(app.url, () => {
      const a = rnd(users.length);
      const b = (a + 1 + rnd(users.length - 1)) % users.length;
      return { path: `/api/wallet/${users[a].id}/transfer`, token: users[a].token, body: { toUserId: users[b].id, asset: 'USD', amount: '0.01' } };
    });

    // (2) One pair: every order goes through the same pair lock.
    const snap = async () => (await db.query(`SELECT count(*)::int AS trades FROM trading_trades`)).rows[0].trades as number;
    const trades0 = await snap();
    const c0 = { ...counts };
    const onePair = await cannon(app.url, () => {
      const u = pick();
      return { path: '/api/trading/orders', token: u.token, body: orderBody(PAIRS[0]) };
    });
    await new Promise((r) => setTimeout(r, 500)); // let the last events arrive
    const trades1 = await snap();
    const c1 = { ...counts };

    // (3) Four pairs: the pairs' writers run in parallel.
    const fourPairs = await cannon(app.url, () => {
      const u = pick();
      return { path: '/api/trading/orders', token: u.token, body: orderBody(PAIRS[rnd(PAIRS.length)]) };
    });
    await new Promise((r) => setTimeout(r, 500));
    const trades2 = await snap();
    const c2 = { ...counts };

    // Books are not crossed, and the ledger holds.
    const books = await Promise.all(PAIRS.map((p) => api(app.url, 'GET', `/api/crypto/orderbook/${p.id}?depth=1`)));
    const crossed = books.filter((b: any) => b.bids.length && b.asks.length && Number(b.bids[0][0]) >= Number(b.asks[0][0])).map((b: any) => b.pairId);
    const resting = (await db.query(`SELECT count(*)::int AS n FROM trading_orders WHERE status IN ('open','partially_filled')`)).rows[0].n;
    // scripts/ledger-verify from the same build; exits non-zero (and so throws here) on any breach.
    const check = ledgerVerify(app.db);

    const summarize = (r: autocannon.Result) => ({
      perSecond: Math.round(r.requests.average),
      ok: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors,
      p50: r.latency.p50,
      p99: r.latency.p99,
    });
    const delta = (a: typeof counts, b: typeof counts) => ({
      orderUpdates: b.order_update - a.order_update,
      bookUpdates: b.orderbook_update - a.orderbook_update,
      tradeEvents: b.trade_executed - a.trade_executed,
    });
    const ledgerFile = join(ROOT, 'bench', 'results', 'ledger.json');
    const ledgerRecorded = existsSync(ledgerFile) ? JSON.parse(readFileSync(ledgerFile, 'utf8')).uniform?.tps ?? null : null;
    const result = {
      when: new Date().toISOString(),
      machine: machine(),
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      transfers: summarize(transfers),
      ledgerBenchRecordedTps: ledgerRecorded,
      onePair: { ...summarize(onePair), trades: trades1 - trades0, fanout: delta(c0, c1), watchers: watchers.length },
      fourPairs: { ...summarize(fourPairs), trades: trades2 - trades1, fanout: delta(c1, c2), watchers: watchers.length },
      ratioOnePairToTransfers: +(onePair.requests.average / transfers.requests.average).toFixed(2),
      ratioFourPairsToTransfers: +(fourPairs.requests.average / transfers.requests.average).toFixed(2),
      restingOrdersAtEnd: resting,
      crossedBooks: crossed,
      ledgerVerify: check,
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'orders.json'), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `\n| workload | requests/s | p50 ms | p99 ms | trades | events delivered (order / book / trade) | vs transfers |\n|---|---|---|---|---|---|---|\n` +
        `| wallet transfers (ledger baseline) | ${result.transfers.perSecond} | ${result.transfers.p50} | ${result.transfers.p99} | | | 1.00 |\n` +
        `| limit orders, one pair | ${result.onePair.perSecond} | ${result.onePair.p50} | ${result.onePair.p99} | ${result.onePair.trades} | ${result.onePair.fanout.orderUpdates} / ${result.onePair.fanout.bookUpdates} / ${result.onePair.fanout.tradeEvents} | ${result.ratioOnePairToTransfers} |\n` +
        `| limit orders, four pairs | ${result.fourPairs.perSecond} | ${result.fourPairs.p50} | ${result.fourPairs.p99} | ${result.fourPairs.trades} | ${result.fourPairs.fanout.orderUpdates} / ${result.fourPairs.fanout.bookUpdates} / ${result.fourPairs.fanout.tradeEvents} | ${result.ratioFourPairsToTransfers} |`,
    );
    if (transfers.non2xx || onePair.non2xx || fourPairs.non2xx) console.log('note: some requests were not 2xx (see counts above)');
  } finally {
    for (const s of sockets) s.close();
    await db.end().catch(() => undefined);
    await app.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
