/**
 * bench/matching: the trading board's matching engine in-process, against nodejs-order-book on
 * the same command stream in the same run. Usage: `npm run bench:matching [-- --commands 300000 --rounds 5]`.
 *
 * The stream is exchange-core-like (its TestOrdersGenerator: a pre-filled book, then mostly GTC
 * limit orders and moves, some cancels and IOC orders, a few market orders), generated once from a
 * seeded PRNG while simulating the book so that moves and cancels name live orders. Both engines
 * then replay exactly the same commands; the final books are compared so that both are known to
 * have done the same work. Every order has its own owner, so self-trade prevention (which
 * nodejs-order-book does not apply by default) never changes the outcome. CPU only, bounded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { OrderBook as NodeOrderBook } from 'nodejs-order-book';
import { OrderBook } from '../../src/modules/trading/engine/matching-engine';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const COMMANDS = arg('commands', 300_000);
const ROUNDS = arg('rounds', 5);
const PREFILL = arg('prefill', 2_000);
const ROOT = process.env.BENCH_REPO ?? join(__dirname, '..', '..');

type Cmd =
  | { k: 'limit'; id: string; side: 'buy' | 'sell'; price: number; qty: number; tif: 'GTC' | 'IOC' }
  | { k: 'market'; id: string; side: 'buy' | 'sell'; qty: number }
  | { k: 'move'; id: string; price: number }
  | { k: 'cancel'; id: string };

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generates the stream while simulating it, so moves and cancels always name live orders. */
function generate(): { cmds: Cmd[]; mix: Record<string, number> } {
  const rnd = mulberry32(20251127);
  const sim = new OrderBook();
  const alive: string[] = [];
  const pos = new Map<string, number>();
  const add = (id: string) => {
    pos.set(id, alive.length);
    alive.push(id);
  };
  const drop = (id: string) => {
    const i = pos.get(id);
    if (i === undefined) return;
    const last = alive.pop()!;
    if (last !== id) {
      alive[i] = last;
      pos.set(last, i);
    }
    pos.delete(id);
  };
  const cmds: Cmd[] = [];
  const mix: Record<string, number> = { gtc: 0, move: 0, cancel: 0, ioc: 0, market: 0 };
  let n = 0;
  const size = () => 1 + Math.floor(rnd() * rnd() * 100);
  const apply = (c: Cmd) => {
    cmds.push(c);
    if (c.k === 'cancel') {
      sim.cancel(c.id);
      drop(c.id);
      return;
    }
    const r =
      c.k === 'move'
        ? sim.replace(c.id, { price: c.price })
        : sim.process(c.k === 'market' ? { id: c.id, owner: c.id, side: c.side, kind: 'market', tif: 'IOC', qty: c.qty } : { id: c.id, owner: c.id, side: c.side, kind: 'limit', tif: c.tif, price: c.price, qty: c.qty });
    for (const f of r.fills) if (f.makerRemaining === 0) drop(f.makerId);
    if (c.k === 'move' && !r.rested) drop(c.id);
    if (c.k !== 'move' && r.rested) add(c.id);
  };
  const MID = 100_000;
  for (let i = 0; i < PREFILL; i++) {
    const buy = i % 2 === 0;
    const off = 1 + Math.floor(rnd() * rnd() * 200);
    apply({ k: 'limit', id: `o${n++}`, side: buy ? 'buy' : 'sell', price: buy ? MID - off : MID + off, qty: size(), tif: 'GTC' });
  }
  for (let i = 0; i < COMMANDS; i++) {
    const bid = sim.bestBid() ?? MID - 1;
    const ask = sim.bestAsk() ?? MID + 1;
    const side: 'buy' | 'sell' = rnd() < 0.5 ? 'buy' : 'sell';
    const r = rnd();
    if (r < 0.45 || alive.length < PREFILL / 4) {
      // GTC: mostly passive, around the spread; about one in ten crosses.
      const off = Math.floor(rnd() * rnd() * 60) - 6;
      apply({ k: 'limit', id: `o${n++}`, side, price: side === 'buy' ? ask - 1 - off : bid + 1 + off, qty: size(), tif: 'GTC' });
      mix.gtc++;
    } else if (r < 0.75) {
      const id = alive[Math.floor(rnd() * alive.length)];
      const o = sim.get(id)!;
      const step = 1 + Math.floor(rnd() * 5);
      // Moves go towards the spread more often than away (as in exchange-core), and may cross.
      const toward = rnd() < 0.6;
      const price = Math.max(1, o.side === 'buy' ? o.price + (toward ? step : -step) : o.price + (toward ? -step : step));
      apply({ k: 'move', id, price });
      mix.move++;
    } else if (r < 0.87) {
      apply({ k: 'cancel', id: alive[Math.floor(rnd() * alive.length)] });
      mix.cancel++;
    } else if (r < 0.97) {
      const through = Math.floor(rnd() * 4);
      apply({ k: 'limit', id: `o${n++}`, side, price: side === 'buy' ? ask + through : bid - through, qty: size(), tif: 'IOC' });
      mix.ioc++;
    } else {
      apply({ k: 'market', id: `o${n++}`, side, qty: size() });
      mix.market++;
    }
  }
  return { cmds, mix };
}

interface RunResult {
  seconds: number;
  traded: number;
  depth: string;
}

function runOurs(cmds: Cmd[]): RunResult {
  const book = new OrderBook();
  let traded = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i];
    switch (c.k) {
      case 'limit':
        traded += book.process({ id: c.id, owner: c.id, side: c.side, kind: 'limit', tif: c.tif, price: c.price, qty: c.qty }).filled;
        break;
      case 'market':
        traded += book.process({ id: c.id, owner: c.id, side: c.side, kind: 'market', tif: 'IOC', qty: c.qty }).filled;
        break;
      case 'move':
        if (book.has(c.id)) traded += book.replace(c.id, { price: c.price }).filled;
        break;
      case 'cancel':
        book.cancel(c.id);
        break;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, traded, depth: JSON.stringify([book.depth('sell'), book.depth('buy')]) };
}

function runTheirs(cmds: Cmd[]): RunResult {
  const book = new NodeOrderBook();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i];
    switch (c.k) {
      case 'limit': {
        book.limit({ id: c.id, side: c.side as never, size: c.qty, price: c.price, timeInForce: c.tif as never });
        break;
      }
      case 'market':
        book.market({ side: c.side as never, size: c.qty });
        break;
      case 'move':
        book.modify(c.id, { price: c.price });
        break;
      case 'cancel':
        book.cancel(c.id);
        break;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const [asks, bids] = book.depth();
  // Same order as ours: asks best (lowest) first, bids best (highest) first.
  asks.sort((x, y) => x[0] - y[0]);
  bids.sort((x, y) => y[0] - x[0]);
  return { seconds, traded: NaN, depth: JSON.stringify([asks, bids]) };
}

/** Per-command latency (every command timed; the timer costs both engines the same). */
function latencies(cmds: Cmd[], ours: boolean): { p50: number; p99: number; p999: number } {
  const book = ours ? new OrderBook() : new NodeOrderBook();
  const ns = new Float64Array(cmds.length);
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i];
    const t0 = process.hrtime.bigint();
    if (ours) {
      const b = book as OrderBook;
      if (c.k === 'limit') b.process({ id: c.id, owner: c.id, side: c.side, kind: 'limit', tif: c.tif, price: c.price, qty: c.qty });
      else if (c.k === 'market') b.process({ id: c.id, owner: c.id, side: c.side, kind: 'market', tif: 'IOC', qty: c.qty });
      else if (c.k === 'move') {
        if (b.has(c.id)) b.replace(c.id, { price: c.price });
      } else b.cancel(c.id);
    } else {
      const b = book as NodeOrderBook;
      if (c.k === 'limit') b.limit({ id: c.id, side: c.side as never, size: c.qty, price: c.price, timeInForce: c.tif as never });
      else if (c.k === 'market') b.market({ side: c.side as never, size: c.qty });
      else if (c.k === 'move') b.modify(c.id, { price: c.price });
      else b.cancel(c.id);
    }
    ns[i] = Number(process.hrtime.bigint() - t0);
  }
  ns.sort();
  const at = (q: number) => Math.round(ns[Math.min(ns.length - 1, Math.floor(q * ns.length))]);
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  console.log(`bench/matching: ${COMMANDS} commands after a ${PREFILL}-order prefill, ${ROUNDS} rounds — ${machine}`);
  const { cmds, mix } = generate();
  console.log('mix:', mix);

  // Warm-up (JIT) for both, then alternate rounds so neither gets a systematically warmer machine.
  runOurs(cmds.slice(0, 50_000));
  runTheirs(cmds.slice(0, 50_000));
  const ours: RunResult[] = [];
  const theirs: RunResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(runOurs(cmds));
    theirs.push(runTheirs(cmds));
  }
  // Identical final books after the whole stream (every level and its volume) means both did the same matching.
  const same = ours[0].depth === theirs[0].depth;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rate = (rs: RunResult[]) => Math.round(cmds.length / median(rs.map((x) => x.seconds)));
  const best = (rs: RunResult[]) => Math.round(cmds.length / Math.min(...rs.map((x) => x.seconds)));
  const latOurs = latencies(cmds, true);
  const latTheirs = latencies(cmds, false);
  const result = {
    when: new Date().toISOString(),
    machine,
    commands: cmds.length,
    prefill: PREFILL,
    rounds: ROUNDS,
    mix,
    sameOutcome: same,
    tradedLots: ours[0].traded,
    ours: { medianOpsPerSec: rate(ours), bestOpsPerSec: best(ours), latencyNs: latOurs },
    nodejsOrderBook: { medianOpsPerSec: rate(theirs), bestOpsPerSec: best(theirs), latencyNs: latTheirs },
    ratio: +(rate(ours) / rate(theirs)).toFixed(2),
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'matching.json'), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `\n| engine | commands/s (median of ${ROUNDS}) | best | p50 ns | p99 ns | p99.9 ns |\n|---|---|---|---|---|---|\n` +
      `| trading engine (ours) | ${result.ours.medianOpsPerSec} | ${result.ours.bestOpsPerSec} | ${latOurs.p50} | ${latOurs.p99} | ${latOurs.p999} |\n` +
      `| nodejs-order-book 10.1 | ${result.nodejsOrderBook.medianOpsPerSec} | ${result.nodejsOrderBook.bestOpsPerSec} | ${latTheirs.p50} | ${latTheirs.p99} | ${latTheirs.p999} |\n` +
      `\nratio ${result.ratio}× — identical final books: ${same}`,
  );
  if (!same) {
    console.error('The two engines ended with different books: the comparison is not apples to apples.');
    process.exitCode = 1;
  }
}

main();
