import { IncomingOrder, MatchResult, OrderBook, Side } from './matching-engine';

const limit = (id: string, owner: string, side: Side, price: number, qty: number, tif: IncomingOrder['tif'] = 'GTC'): IncomingOrder => ({
  id,
  owner,
  side,
  kind: 'limit',
  tif,
  price,
  qty,
});
const market = (id: string, owner: string, side: Side, qty: number, tif: IncomingOrder['tif'] = 'IOC'): IncomingOrder => ({
  id,
  owner,
  side,
  kind: 'market',
  tif,
  qty,
});
const fills = (r: MatchResult) => r.fills.map((f) => [f.makerId, f.price, f.qty, f.makerRemaining]);

describe('OrderBook (matching engine)', () => {
  let book: OrderBook;
  beforeEach(() => {
    book = new OrderBook();
  });
  afterEach(() => book.check());

  it('rests non-crossing limit orders and reports depth best first', () => {
    expect(book.process(limit('b1', 'A', 'buy', 100, 5)).rested).toBe(true);
    book.process(limit('b2', 'A', 'buy', 101, 1));
    book.process(limit('b3', 'B', 'buy', 99, 2));
    book.process(limit('s1', 'C', 'sell', 105, 3));
    book.process(limit('s2', 'C', 'sell', 103, 4));
    book.process(limit('s3', 'D', 'sell', 103, 1));
    expect(book.depth('buy')).toEqual([
      [101, 1],
      [100, 5],
      [99, 2],
    ]);
    expect(book.depth('sell', 1)).toEqual([[103, 5]]);
    expect(book.bestBid()).toBe(101);
    expect(book.bestAsk()).toBe(103);
    expect(book.size).toBe(6);
  });

  it('matches by price first, then time, at the maker price', () => {
    book.process(limit('s-late', 'B', 'sell', 100, 2));
    book.process(limit('s-cheap', 'C', 'sell', 99, 1));
    book.process(limit('s-later', 'D', 'sell', 100, 2));
    const r = book.process(limit('buy', 'A', 'buy', 101, 4));
    expect(fills(r)).toEqual([
      ['s-cheap', 99, 1, 0],
      ['s-late', 100, 2, 0],
      ['s-later', 100, 1, 1],
    ]);
    expect(r).toMatchObject({ filled: 4, remaining: 0, rested: false, cancelReason: null });
    expect(book.depth('sell')).toEqual([[100, 1]]);
    expect(book.get('s-later')?.remaining).toBe(1);
  });

  it('partially fills and rests the remainder of a GTC order', () => {
    book.process(limit('s1', 'B', 'sell', 100, 3));
    const r = book.process(limit('b1', 'A', 'buy', 100, 10));
    expect(r).toMatchObject({ filled: 3, remaining: 7, rested: true, cancelReason: null });
    expect(book.depth('buy')).toEqual([[100, 7]]);
    expect(book.depth('sell')).toEqual([]);
    // A later sell fills the resting remainder at its price.
    const r2 = book.process(limit('s2', 'C', 'sell', 95, 2));
    expect(fills(r2)).toEqual([['b1', 100, 2, 5]]);
  });

  it('does not trade through the limit price', () => {
    book.process(limit('s1', 'B', 'sell', 101, 3));
    const r = book.process(limit('b1', 'A', 'buy', 100, 3));
    expect(r.fills).toEqual([]);
    expect(r.rested).toBe(true);
    expect(book.depth('buy')).toEqual([[100, 3]]);
  });

  it('IOC fills what it can and cancels the rest; it never rests', () => {
    book.process(limit('s1', 'B', 'sell', 100, 2));
    const r = book.process(limit('ioc', 'A', 'buy', 100, 5, 'IOC'));
    expect(r).toMatchObject({ filled: 2, remaining: 3, rested: false, cancelReason: 'ioc' });
    expect(book.has('ioc')).toBe(false);
    expect(book.process(limit('ioc2', 'A', 'buy', 100, 5, 'IOC'))).toMatchObject({ filled: 0, remaining: 5, cancelReason: 'ioc' });
  });

  it('FOK fills completely or not at all', () => {
    book.process(limit('s1', 'B', 'sell', 100, 2));
    book.process(limit('s2', 'C', 'sell', 101, 2));
    const no = book.process(limit('fok1', 'A', 'buy', 100, 3, 'FOK'));
    expect(no).toMatchObject({ filled: 0, remaining: 3, rested: false, cancelReason: 'fok', fills: [] });
    expect(book.depth('sell')).toEqual([
      [100, 2],
      [101, 2],
    ]);
    const yes = book.process(limit('fok2', 'A', 'buy', 101, 3, 'FOK'));
    expect(fills(yes)).toEqual([
      ['s1', 100, 2, 0],
      ['s2', 101, 1, 1],
    ]);
    expect(yes.cancelReason).toBeNull();
    // A market FOK too.
    expect(book.process(market('mfok', 'A', 'buy', 2, 'FOK')).cancelReason).toBe('fok');
    expect(book.process(market('mfok2', 'A', 'buy', 1, 'FOK')).filled).toBe(1);
  });

  it('market orders sweep any price and never rest; on an empty book nothing happens', () => {
    expect(book.process(market('m0', 'A', 'sell', 5))).toMatchObject({ filled: 0, remaining: 5, rested: false, cancelReason: 'market' });
    book.process(limit('b1', 'B', 'buy', 90, 1));
    book.process(limit('b2', 'C', 'buy', 50, 1));
    const r = book.process(market('m1', 'A', 'sell', 3));
    expect(fills(r)).toEqual([
      ['b1', 90, 1, 0],
      ['b2', 50, 1, 0],
    ]);
    expect(r).toMatchObject({ filled: 2, remaining: 1, cancelReason: 'market' });
    expect(book.size).toBe(0);
  });

  it('self-trade prevention stops the incoming order at its own resting order and cancels the rest', () => {
    book.process(limit('s1', 'B', 'sell', 100, 1));
    book.process(limit('own', 'A', 'sell', 100, 5));
    book.process(limit('s3', 'C', 'sell', 100, 5));
    const r = book.process(limit('b', 'A', 'buy', 100, 4));
    expect(fills(r)).toEqual([['s1', 100, 1, 0]]);
    expect(r).toMatchObject({ filled: 1, remaining: 3, rested: false, cancelReason: 'self_trade' });
    // The resting own order and the orders behind it are untouched.
    expect(book.get('own')?.remaining).toBe(5);
    expect(book.depth('sell')).toEqual([[100, 10]]);
    // FOK sees the stop in advance: not fillable, nothing traded.
    expect(book.process(limit('f', 'A', 'buy', 100, 2, 'FOK'))).toMatchObject({ filled: 0, cancelReason: 'fok' });
    // Another owner trades through normally.
    expect(book.process(limit('x', 'D', 'buy', 100, 6)).filled).toBe(6);
  });

  it('cancel removes an order and its empty level; unknown ids are ignored', () => {
    book.process(limit('b1', 'A', 'buy', 100, 1));
    book.process(limit('b2', 'A', 'buy', 100, 2));
    book.process(limit('b3', 'A', 'buy', 99, 2));
    expect(book.cancel('b1')?.id).toBe('b1');
    expect(book.depth('buy')).toEqual([
      [100, 2],
      [99, 2],
    ]);
    book.cancel('b2');
    expect(book.depth('buy')).toEqual([[99, 2]]);
    expect(book.cancel('nope')).toBeUndefined();
    expect(book.levelTotal('buy', 100)).toBe(0);
  });

  it('replace loses time priority, and a replace that crosses trades at once', () => {
    book.process(limit('s1', 'B', 'sell', 100, 2));
    book.process(limit('s2', 'C', 'sell', 100, 2));
    // s1 changes its quantity: it goes behind s2.
    book.replace('s1', { qty: 3 });
    const r = book.process(limit('b', 'A', 'buy', 100, 2));
    expect(fills(r)).toEqual([['s2', 100, 2, 0]]);
    // A resting buy moved up through the ask trades as a taker at the maker's price.
    book.process(limit('b2', 'D', 'buy', 90, 5));
    const moved = book.replace('b2', { price: 101 });
    expect(fills(moved)).toEqual([['s1', 100, 3, 0]]);
    expect(moved).toMatchObject({ filled: 3, remaining: 2, rested: true });
    expect(book.depth('buy')).toEqual([[101, 2]]);
  });

  it('rebuilds from storage in priority order whatever the insertion order', () => {
    book.add({ id: 'c', owner: 'X', side: 'sell', price: 100, qty: 1, priority: 30 });
    book.add({ id: 'a', owner: 'X', side: 'sell', price: 100, qty: 1, priority: 10 });
    book.add({ id: 'b', owner: 'Y', side: 'sell', price: 100, qty: 1, priority: 20 });
    const r = book.process(limit('t', 'Z', 'buy', 100, 3));
    expect(r.fills.map((f) => f.makerId)).toEqual(['a', 'b', 'c']);
    // New orders rest behind anything rebuilt.
    book.add({ id: 'd', owner: 'X', side: 'sell', price: 100, qty: 1, priority: 40 });
    expect(book.process(limit('e', 'Y', 'sell', 100, 1)).priority).toBeGreaterThan(40);
  });

  it('setRemaining keeps priority; preview reports segments without changing anything', () => {
    book.process(limit('s1', 'B', 'sell', 100, 5));
    book.process(limit('s2', 'C', 'sell', 100, 5));
    book.process(limit('s3', 'A', 'sell', 102, 5));
    book.setRemaining('s1', 1);
    expect(book.preview('buy', 20, 'A', null)).toEqual({
      filled: 6,
      segments: [{ price: 100, qty: 6 }],
      stoppedBySelfTrade: true,
    });
    expect(book.preview('buy', 3, 'Z', 100)).toEqual({ filled: 3, segments: [{ price: 100, qty: 3 }], stoppedBySelfTrade: false });
    const owners = new Set<string>();
    book.preview('buy', 2, 'Z', null, owners);
    expect([...owners]).toEqual(['B', 'C']);
    expect(book.depth('sell')).toEqual([
      [100, 6],
      [102, 5],
    ]);
    expect(fills(book.process(limit('t', 'Z', 'buy', 100, 2)))).toEqual([
      ['s1', 100, 1, 0],
      ['s2', 100, 1, 4],
    ]);
  });

  it('refuses invalid quantities, prices and duplicate ids', () => {
    expect(() => book.process(limit('x', 'A', 'buy', 100, 0))).toThrow(/qty/);
    expect(() => book.process(limit('x', 'A', 'buy', 1.5, 1))).toThrow(/price/);
    expect(() => book.process(limit('x', 'A', 'buy', 100, Number.MAX_SAFE_INTEGER + 2))).toThrow(/qty/);
    book.process(limit('x', 'A', 'buy', 100, 1));
    expect(() => book.process(limit('x', 'A', 'buy', 100, 1))).toThrow(/already/);
    expect(() => book.replace('x', { price: 0 })).toThrow(/price/);
    expect(book.get('x')?.price).toBe(100);
    expect(() => book.replace('nope', { price: 1 })).toThrow(/not in the book/);
  });

  /**
   * Differential test: thousands of random operations against a deliberately naive model
   * (arrays scanned in full); every result and the whole book must agree.
   */
  it('agrees with a naive reference model on a long random sequence', () => {
    type M = { id: string; owner: string; side: Side; price: number; rem: number; pri: number };
    let model: M[] = [];
    let pri = 1;
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const naive = (inc: IncomingOrder) => {
      const out: [string, number, number, number][] = [];
      const opp = inc.side === 'buy' ? 'sell' : 'buy';
      const ok = (p: number) => inc.kind === 'market' || (inc.side === 'buy' ? p <= inc.price! : p >= inc.price!);
      const queue = () =>
        model
          .filter((m) => m.side === opp && ok(m.price))
          .sort((a, b) => (a.price !== b.price ? (inc.side === 'buy' ? a.price - b.price : b.price - a.price) : a.pri - b.pri));
      if (inc.tif === 'FOK') {
        let can = 0;
        for (const m of queue()) {
          if (m.owner === inc.owner) break;
          can += m.rem;
        }
        if (can < inc.qty) return { fills: out, rested: false, remaining: inc.qty };
      }
      let left = inc.qty;
      let stp = false;
      for (const m of queue()) {
        if (left === 0) break;
        if (m.owner === inc.owner) {
          stp = true;
          break;
        }
        const q = Math.min(left, m.rem);
        m.rem -= q;
        left -= q;
        out.push([m.id, m.price, q, m.rem]);
      }
      model = model.filter((m) => m.rem > 0);
      const rests = left > 0 && !stp && inc.kind === 'limit' && inc.tif === 'GTC';
      if (rests) model.push({ id: inc.id, owner: inc.owner, side: inc.side, price: inc.price!, rem: left, pri: pri++ });
      return { fills: out, rested: rests, remaining: left };
    };
    const owners = ['A', 'B', 'C', 'D', 'E'];
    for (let i = 0; i < 6000; i++) {
      const action = rnd(100);
      if (action < 12 && model.length) {
        const victim = model[rnd(model.length)];
        book.cancel(victim.id);
        model = model.filter((m) => m !== victim);
        continue;
      }
      if (action < 20 && model.length) {
        const m = model[rnd(model.length)];
        const price = m.price + rnd(7) - 3;
        const r = book.replace(m.id, { price: Math.max(1, price) });
        model = model.filter((x) => x !== m);
        const exp = naive({ id: m.id, owner: m.owner, side: m.side, kind: 'limit', tif: 'GTC', price: Math.max(1, price), qty: m.rem });
        expect(fills(r)).toEqual(exp.fills);
        continue;
      }
      const side: Side = rnd(2) ? 'buy' : 'sell';
      const kind = action < 25 ? 'market' : 'limit';
      const tifs = ['GTC', 'GTC', 'GTC', 'IOC', 'FOK'] as const;
      const inc: IncomingOrder = {
        id: `o${i}`,
        owner: owners[rnd(owners.length)],
        side,
        kind,
        tif: kind === 'market' ? (rnd(4) ? 'IOC' : 'FOK') : tifs[rnd(tifs.length)],
        price: kind === 'limit' ? 95 + rnd(11) : undefined,
        qty: 1 + rnd(9),
      };
      const r = book.process(inc);
      const exp = naive(inc);
      expect([i, fills(r)]).toEqual([i, exp.fills]);
      expect(r.rested).toBe(exp.rested);
      expect(r.remaining).toBe(exp.remaining);
      if (i % 500 === 0) book.check();
    }
    book.check();
    for (const side of ['buy', 'sell'] as const) {
      const levels = new Map<number, number>();
      for (const m of model.filter((x) => x.side === side)) levels.set(m.price, (levels.get(m.price) ?? 0) + m.rem);
      const expected = [...levels.entries()].sort((a, b) => (side === 'buy' ? b[0] - a[0] : a[0] - b[0]));
      expect(book.depth(side)).toEqual(expected);
    }
  });
});
