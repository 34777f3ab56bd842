/**
 * The order book held by the Trading page, as pure functions. The server sends a snapshot
 * (`orderBook`) and then `orderBookUpdated` deltas: the changed price levels with their new total
 * quantity ("0" removes the level) and the pair's sequence, +1 for every change. As with Binance's
 * diff-depth stream, an update at or below our sequence is stale (ignored), one just above applies,
 * and one further ahead means we missed something: fetch a new snapshot and replay what came
 * after it. Prices and quantities stay decimal strings (compared exactly, never as floats).
 */
import { compareDecimal, isZeroDecimal } from '../../lib/format';

export type Level = [price: string, quantity: string];

export interface Book {
  pairId: string;
  sequence: number;
  bids: Level[]; // best (highest) first
  asks: Level[]; // best (lowest) first
}

export type ApplyResult = { book: Book; status: 'applied' | 'stale' } | { book: Book; status: 'gap' };

/** Writes changed levels into one side, keeping it sorted best-first; returns a new array. */
export function mergeSide(side: readonly Level[], changes: readonly Level[], bestFirst: 'desc' | 'asc'): Level[] {
  if (changes.length === 0) return side as Level[];
  const byPrice = new Map<string, string>();
  const key = (p: string) => normalise(p);
  for (const [p, q] of side) byPrice.set(key(p), q);
  const shown = new Map<string, string>(side.map(([p]) => [key(p), p]));
  for (const [p, q] of changes) {
    const k = key(p);
    if (isZeroDecimal(q)) {
      byPrice.delete(k);
      shown.delete(k);
    } else {
      byPrice.set(k, q);
      if (!shown.has(k)) shown.set(k, p);
    }
  }
  const out: Level[] = [...byPrice.entries()].map(([k, q]) => [shown.get(k)!, q]);
  out.sort((a, b) => (bestFirst === 'desc' ? compareDecimal(b[0], a[0]) : compareDecimal(a[0], b[0])));
  return out;
}

/** "100.50" and "100.5" are one level. */
function normalise(p: string): string {
  return p.includes('.') ? p.replace(/0+$/, '').replace(/\.$/, '') : p;
}

/** Applies one delta to the book. */
export function applyUpdate(book: Book, u: Book): ApplyResult {
  if (u.pairId !== book.pairId || u.sequence <= book.sequence) return { book, status: 'stale' };
  if (u.sequence > book.sequence + 1) return { book, status: 'gap' };
  return {
    status: 'applied',
    book: { pairId: book.pairId, sequence: u.sequence, bids: mergeSide(book.bids, u.bids, 'desc'), asks: mergeSide(book.asks, u.asks, 'asc') },
  };
}

/**
 * A fresh snapshot plus the updates heard while it was being fetched: the ones past the
 * snapshot's sequence are applied in order. Returns 'gap' if they still do not join up.
 */
export function reconcile(snapshot: Book, buffered: readonly Book[]): ApplyResult {
  let book = snapshot;
  for (const u of [...buffered].sort((a, b) => a.sequence - b.sequence)) {
    const r = applyUpdate(book, u);
    if (r.status === 'gap') return r;
    book = r.book;
  }
  return { book, status: 'applied' };
}

/** The top `depth` levels of each side, with cumulative quantities for depth bars (display only). */
export function topLevels(book: Book, depth: number) {
  const cum = (levels: Level[]) => {
    let total = 0;
    return levels.slice(0, depth).map(([price, qty]) => {
      total += Number(qty);
      return { price, qty, cumulative: total };
    });
  };
  return { bids: cum(book.bids), asks: cum(book.asks) };
}
