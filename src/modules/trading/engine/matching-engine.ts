/**
 * A price-time priority limit order book and matching engine for one trading pair.
 * Pure TypeScript: no database, no Nest, no I/O, no clock.
 *
 * Units: prices are integer ticks and quantities integer lots (the service converts from and to
 * exact minor units with the pair's tick and lot size). Every value is a JS integer below 2^53,
 * so the arithmetic is exact and fast (no floats, no bigint in the hot loop).
 *
 * Structure (in the spirit of exchange-core's "naive" book, tuned for V8):
 * - per side, the price levels sit in a plain array sorted so that the best price is LAST: the
 *   best level is `levels[length - 1]`, taking it out is a `pop()`, and a new level near the top
 *   of the book (the common case) is a binary search plus a short `splice` at the end;
 * - a Map price → level finds an existing level in O(1);
 * - each level is an intrusive doubly linked FIFO list of orders, and a Map id → order makes
 *   cancel, reduce and replace O(1) (plus the level's removal when it empties).
 *
 * Rules: price-time priority; a trade happens at the resting (maker) order's price; market, IOC
 * and FOK orders never rest; FOK fills completely or not at all; self-trade prevention stops an
 * incoming order at the first resting order of the same owner and cancels its remainder (the
 * resting order is untouched); replace removes an order and re-enters it as a new incoming order
 * (it loses time priority and may trade at once).
 */

export type Side = 'buy' | 'sell';
export type OrderKind = 'limit' | 'market';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';
export type CancelReason = 'ioc' | 'fok' | 'market' | 'self_trade';

export interface RestingOrder {
  readonly id: string;
  readonly owner: string;
  readonly side: Side;
  /** Ticks. */
  readonly price: number;
  /** Lots still open. */
  remaining: number;
  /** Lower is earlier (time priority inside a level). */
  readonly priority: number;
  /** @internal */ prev: RestingOrder | null;
  /** @internal */ next: RestingOrder | null;
  /** @internal */ level: PriceLevel | null;
}

export interface IncomingOrder {
  id: string;
  owner: string;
  side: Side;
  kind: OrderKind;
  /** GTC rests its remainder; IOC and FOK never rest. Market orders behave as IOC (or FOK). */
  tif: TimeInForce;
  /** Ticks; required for limit orders, ignored for market orders. */
  price?: number;
  /** Lots. */
  qty: number;
  /** Time priority to rest with (the service passes its book sequence); default: the next internal one. */
  priority?: number;
}

export interface Fill {
  makerId: string;
  makerOwner: string;
  /** Ticks: the maker's price. */
  price: number;
  /** Lots. */
  qty: number;
  /** Lots the maker still has open after this fill (0: it left the book). */
  makerRemaining: number;
}

export interface MatchResult {
  fills: Fill[];
  /** Lots the incoming order filled. */
  filled: number;
  /** Lots not filled (resting when `rested`, cancelled otherwise). */
  remaining: number;
  rested: boolean;
  /** Why the unfilled remainder was cancelled; null when it rests or nothing remains. */
  cancelReason: CancelReason | null;
  /** The priority the order rests with (when rested). */
  priority: number | null;
}

export interface Segment {
  price: number;
  qty: number;
}

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** @internal */
export class PriceLevel {
  total = 0;
  count = 0;
  head: RestingOrder | null = null;
  tail: RestingOrder | null = null;
  constructor(readonly price: number) {}
}

function assertQty(n: number, what: string) {
  if (!Number.isSafeInteger(n) || n <= 0) throw new EngineError(`${what} must be a positive safe integer, got ${n}`);
}

class BookSide {
  /** Sorted so that the best price is last: asks descending, bids ascending. */
  readonly levels: PriceLevel[] = [];
  readonly byPrice = new Map<number, PriceLevel>();
  /** Σ remaining lots on this side. */
  volume = 0;

  constructor(readonly side: Side) {}

  best(): PriceLevel | undefined {
    const l = this.levels;
    return l.length ? l[l.length - 1] : undefined;
  }

  /** True when `a` is strictly better than `b` for this side. */
  better(a: number, b: number): boolean {
    return this.side === 'buy' ? a > b : a < b;
  }

  level(price: number): PriceLevel {
    let lvl = this.byPrice.get(price);
    if (lvl) return lvl;
    lvl = new PriceLevel(price);
    this.byPrice.set(price, lvl);
    const arr = this.levels;
    const n = arr.length;
    // Most new levels land at or near the top of the book: check the end first.
    if (n === 0 || this.better(price, arr[n - 1].price)) {
      arr.push(lvl);
      return lvl;
    }
    // Binary search for the first index whose price is better than `price` (array worst → best).
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(arr[mid].price, price)) hi = mid;
      else lo = mid + 1;
    }
    arr.splice(lo, 0, lvl);
    return lvl;
  }

  dropLevel(lvl: PriceLevel) {
    this.byPrice.delete(lvl.price);
    const arr = this.levels;
    const n = arr.length;
    if (arr[n - 1] === lvl) {
      arr.pop();
      return;
    }
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(arr[mid].price, lvl.price)) hi = mid;
      else lo = mid + 1;
    }
    // `lo` is the first better price: the level itself sits just before it (or at the end).
    const idx = arr[lo] === lvl ? lo : lo - 1;
    if (arr[idx] !== lvl) throw new EngineError('price level index is corrupt');
    arr.splice(idx, 1);
  }
}

export class OrderBook {
  private readonly bids = new BookSide('buy');
  private readonly asks = new BookSide('sell');
  private readonly orders = new Map<string, RestingOrder>();
  private nextPriority = 1;

  /** Number of resting orders. */
  get size(): number {
    return this.orders.size;
  }

  get(id: string): RestingOrder | undefined {
    return this.orders.get(id);
  }

  has(id: string): boolean {
    return this.orders.has(id);
  }

  bestBid(): number | null {
    return this.bids.best()?.price ?? null;
  }

  bestAsk(): number | null {
    return this.asks.best()?.price ?? null;
  }

  /** Total resting lots at a price on a side (0 when the level is empty). */
  levelTotal(side: Side, price: number): number {
    return this.sideOf(side).byPrice.get(price)?.total ?? 0;
  }

  /** The best `n` levels of a side as [price, total lots], best first. */
  depth(side: Side, n = Infinity): [number, number][] {
    const arr = this.sideOf(side).levels;
    const out: [number, number][] = [];
    for (let i = arr.length - 1; i >= 0 && out.length < n; i--) out.push([arr[i].price, arr[i].total]);
    return out;
  }

  /** Every resting order, best price first and in time priority inside a level. */
  *restingOrders(side: Side): IterableIterator<RestingOrder> {
    const arr = this.sideOf(side).levels;
    for (let i = arr.length - 1; i >= 0; i--) {
      for (let o = arr[i].head; o; o = o.next) yield o;
    }
  }

  /**
   * Puts an order straight into the book without matching (rebuilding the book from storage).
   * With an explicit priority it takes its place in the level's FIFO by priority.
   */
  add(o: { id: string; owner: string; side: Side; price: number; qty: number; priority?: number }): RestingOrder {
    assertQty(o.qty, 'qty');
    assertQty(o.price, 'price');
    if (this.orders.has(o.id)) throw new EngineError(`order ${o.id} is already in the book`);
    const priority = o.priority ?? this.nextPriority;
    if (priority >= this.nextPriority) this.nextPriority = priority + 1;
    const order: RestingOrder = { id: o.id, owner: o.owner, side: o.side, price: o.price, remaining: o.qty, priority, prev: null, next: null, level: null };
    this.insert(order);
    return order;
  }

  /** Takes a resting order out of the book; undefined when it is not there. */
  cancel(id: string): RestingOrder | undefined {
    const o = this.orders.get(id);
    if (!o) return undefined;
    this.unlink(o);
    return o;
  }

  /** Changes a resting order's open quantity in place, keeping its priority (a fill seen elsewhere, or a reduction). */
  setRemaining(id: string, qty: number): RestingOrder {
    const o = this.orders.get(id);
    if (!o) throw new EngineError(`order ${id} is not in the book`);
    assertQty(qty, 'qty');
    const delta = qty - o.remaining;
    o.remaining = qty;
    o.level!.total += delta;
    this.sideOf(o.side).volume += delta;
    return o;
  }

  /**
   * Cancel-replace: the order leaves the book and comes back as a new GTC limit order with a new
   * price and/or quantity (loses time priority), matching at once if it now crosses.
   */
  replace(id: string, change: { price?: number; qty?: number; priority?: number }): MatchResult {
    const o = this.orders.get(id);
    if (!o) throw new EngineError(`order ${id} is not in the book`);
    // Validate before the order leaves the book, so a bad replace changes nothing.
    if (change.price !== undefined) assertQty(change.price, 'price');
    if (change.qty !== undefined) assertQty(change.qty, 'qty');
    this.unlink(o);
    return this.process({
      id: o.id,
      owner: o.owner,
      side: o.side,
      kind: 'limit',
      tif: 'GTC',
      price: change.price ?? o.price,
      qty: change.qty ?? o.remaining,
      priority: change.priority,
    });
  }

  /**
   * What an incoming order would trade right now, without changing anything: the segments it
   * would fill (best first), stopping where self-trade prevention would stop it.
   */
  preview(
    side: Side,
    qty: number,
    owner: string,
    limit: number | null,
    /** Collects the owners of the resting orders it would trade with. */
    makers?: Set<string>,
  ): { filled: number; segments: Segment[]; stoppedBySelfTrade: boolean } {
    assertQty(qty, 'qty');
    const book = side === 'buy' ? this.asks : this.bids;
    const segments: Segment[] = [];
    let left = qty;
    const arr = book.levels;
    for (let i = arr.length - 1; i >= 0 && left > 0; i--) {
      const lvl = arr[i];
      if (limit !== null && (side === 'buy' ? lvl.price > limit : lvl.price < limit)) break;
      let take = 0;
      for (let o = lvl.head; o && left > 0; o = o.next) {
        if (o.owner === owner) {
          if (take) segments.push({ price: lvl.price, qty: take });
          return { filled: qty - left, segments, stoppedBySelfTrade: true };
        }
        const q = o.remaining < left ? o.remaining : left;
        take += q;
        left -= q;
        makers?.add(o.owner);
      }
      if (take) segments.push({ price: lvl.price, qty: take });
    }
    return { filled: qty - left, segments, stoppedBySelfTrade: false };
  }

  /** Matches an incoming order against the book and rests what may rest. */
  process(inc: IncomingOrder): MatchResult {
    assertQty(inc.qty, 'qty');
    const isLimit = inc.kind === 'limit';
    if (isLimit) assertQty(inc.price as number, 'price');
    if (this.orders.has(inc.id)) throw new EngineError(`order ${inc.id} is already in the book`);
    const side = inc.side;
    const opposite = side === 'buy' ? this.asks : this.bids;
    const limit = isLimit ? (inc.price as number) : side === 'buy' ? Infinity : -Infinity;
    const fills: Fill[] = [];

    if (inc.tif === 'FOK') {
      const p = this.preview(side, inc.qty, inc.owner, isLimit ? limit : null);
      if (p.filled < inc.qty) {
        return { fills, filled: 0, remaining: inc.qty, rested: false, cancelReason: 'fok', priority: null };
      }
    }

    let left = inc.qty;
    let stp = false;
    const buying = side === 'buy';
    outer: while (left > 0) {
      const lvl = opposite.best();
      if (!lvl) break;
      if (buying ? lvl.price > limit : lvl.price < limit) break;
      let o = lvl.head;
      while (o && left > 0) {
        if (o.owner === inc.owner) {
          stp = true;
          break outer;
        }
        const q = o.remaining < left ? o.remaining : left;
        left -= q;
        o.remaining -= q;
        lvl.total -= q;
        opposite.volume -= q;
        fills.push({ makerId: o.id, makerOwner: o.owner, price: lvl.price, qty: q, makerRemaining: o.remaining });
        const next: RestingOrder | null = o.next;
        if (o.remaining === 0) {
          // The head leaves: unlink without the general path (it is always the head here).
          lvl.head = next;
          if (next) next.prev = null;
          else lvl.tail = null;
          lvl.count -= 1;
          o.next = null;
          o.level = null;
          this.orders.delete(o.id);
        }
        o = next;
      }
      if (lvl.count === 0) opposite.dropLevel(lvl);
    }

    const filled = inc.qty - left;
    if (left === 0) return { fills, filled, remaining: 0, rested: false, cancelReason: null, priority: null };
    if (stp) return { fills, filled, remaining: left, rested: false, cancelReason: 'self_trade', priority: null };
    if (!isLimit) return { fills, filled, remaining: left, rested: false, cancelReason: inc.tif === 'FOK' ? 'fok' : 'market', priority: null };
    if (inc.tif !== 'GTC') return { fills, filled, remaining: left, rested: false, cancelReason: inc.tif === 'IOC' ? 'ioc' : 'fok', priority: null };
    const rested = this.add({ id: inc.id, owner: inc.owner, side, price: limit, qty: left, priority: inc.priority });
    return { fills, filled, remaining: left, rested: true, cancelReason: null, priority: rested.priority };
  }

  /** Consistency check for tests: totals, links, ordering and no crossed book. */
  check(): void {
    for (const s of [this.bids, this.asks]) {
      let volume = 0;
      for (let i = 0; i < s.levels.length; i++) {
        const lvl = s.levels[i];
        if (i > 0 && !s.better(lvl.price, s.levels[i - 1].price)) throw new EngineError('levels out of order');
        if (s.byPrice.get(lvl.price) !== lvl) throw new EngineError('level map out of sync');
        let total = 0;
        let count = 0;
        let prev: RestingOrder | null = null;
        for (let o = lvl.head; o; o = o.next) {
          if (o.prev !== prev || o.level !== lvl || o.remaining <= 0) throw new EngineError('order links corrupt');
          if (prev && prev.priority >= o.priority) throw new EngineError('time priority broken');
          if (this.orders.get(o.id) !== o) throw new EngineError('order index out of sync');
          total += o.remaining;
          count += 1;
          prev = o;
        }
        if (lvl.tail !== prev || total !== lvl.total || count !== lvl.count || count === 0) throw new EngineError('level totals wrong');
        volume += total;
      }
      if (volume !== s.volume || s.byPrice.size !== s.levels.length) throw new EngineError('side totals wrong');
    }
    const bb = this.bestBid();
    const ba = this.bestAsk();
    if (bb !== null && ba !== null && bb >= ba) throw new EngineError('book is crossed');
  }

  private sideOf(side: Side): BookSide {
    return side === 'buy' ? this.bids : this.asks;
  }

  private insert(o: RestingOrder) {
    const s = this.sideOf(o.side);
    const lvl = s.level(o.price);
    // Walk back from the tail to keep the FIFO ordered by priority (new orders go last).
    let after = lvl.tail;
    while (after && after.priority > o.priority) after = after.prev;
    if (after) {
      o.next = after.next;
      o.prev = after;
      if (after.next) after.next.prev = o;
      else lvl.tail = o;
      after.next = o;
    } else {
      o.prev = null;
      o.next = lvl.head;
      if (lvl.head) lvl.head.prev = o;
      else lvl.tail = o;
      lvl.head = o;
    }
    o.level = lvl;
    lvl.total += o.remaining;
    lvl.count += 1;
    s.volume += o.remaining;
    this.orders.set(o.id, o);
  }

  private unlink(o: RestingOrder) {
    const lvl = o.level!;
    const s = this.sideOf(o.side);
    if (o.prev) o.prev.next = o.next;
    else lvl.head = o.next;
    if (o.next) o.next.prev = o.prev;
    else lvl.tail = o.prev;
    o.prev = o.next = null;
    o.level = null;
    lvl.total -= o.remaining;
    lvl.count -= 1;
    s.volume -= o.remaining;
    this.orders.delete(o.id);
    if (lvl.count === 0) s.dropLevel(lvl);
  }
}
