import { describe, expect, it } from 'vitest';
import { applyUpdate, mergeSide, reconcile, topLevels, type Book } from './book';

const book = (sequence: number, bids: [string, string][] = [], asks: [string, string][] = []): Book => ({ pairId: 'BTC-USD', sequence, bids, asks });

describe('mergeSide', () => {
  it('adds, replaces and removes levels, keeping bids best (highest) first', () => {
    const bids = mergeSide([['100.00', '1'], ['99.00', '2']], [['101.00', '0.5'], ['99.00', '3'], ['100.00', '0']], 'desc');
    expect(bids).toEqual([['101.00', '0.5'], ['99.00', '3']]);
  });

  it('keeps asks lowest first and compares prices as decimals, not strings', () => {
    const asks = mergeSide([['9.5', '1']], [['10.25', '1'], ['9.75', '2']], 'asc');
    expect(asks.map(([p]) => p)).toEqual(['9.5', '9.75', '10.25']);
  });

  it('treats 100.5 and 100.50 as one level', () => {
    expect(mergeSide([['100.50', '1']], [['100.5', '0']], 'desc')).toEqual([]);
  });
});

describe('applyUpdate', () => {
  const start = book(10, [['100', '1']], [['101', '1']]);

  it('applies the next sequence', () => {
    const r = applyUpdate(start, book(11, [['100', '0'], ['99.5', '2']], [['101', '0.4']]));
    expect(r.status).toBe('applied');
    expect(r.book).toEqual(book(11, [['99.5', '2']], [['101', '0.4']]));
  });

  it('ignores stale or repeated updates', () => {
    expect(applyUpdate(start, book(10, [['100', '5']])).status).toBe('stale');
    expect(applyUpdate(start, book(9, [['100', '5']])).book).toBe(start);
  });

  it('reports a gap when an update was missed', () => {
    const r = applyUpdate(start, book(12, [['100', '5']]));
    expect(r.status).toBe('gap');
    expect(r.book).toBe(start);
  });

  it('ignores another pair', () => {
    expect(applyUpdate(start, { ...book(11), pairId: 'ETH-USD' }).status).toBe('stale');
  });
});

describe('reconcile', () => {
  it('replays the buffered updates newer than the snapshot, in order', () => {
    const snapshot = book(20, [['100', '1']], []);
    const buffered = [book(22, [['100', '3']]), book(19, [['100', '9']]), book(21, [['100', '2']]), book(20, [['100', '7']])];
    const r = reconcile(snapshot, buffered);
    expect(r.status).toBe('applied');
    expect(r.book.sequence).toBe(22);
    expect(r.book.bids).toEqual([['100', '3']]);
  });

  it('still reports a gap when the buffer does not join the snapshot', () => {
    expect(reconcile(book(20), [book(23)]).status).toBe('gap');
  });
});

describe('a long stream', () => {
  it('stays equal to the book rebuilt from scratch after 1000 random updates', () => {
    let rnd = 42;
    const next = () => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let b = book(0);
    const truth = new Map<string, string>();
    for (let s = 1; s <= 1000; s++) {
      const price = (95 + Math.floor(next() * 10)).toFixed(2);
      const qty = next() < 0.3 ? '0' : (1 + Math.floor(next() * 5)).toString();
      const r = applyUpdate(b, book(s, [[price, qty]]));
      expect(r.status).toBe('applied');
      b = r.book;
      if (qty === '0') truth.delete(price);
      else truth.set(price, qty);
    }
    const expected = [...truth.entries()].sort((x, y) => Number(y[0]) - Number(x[0]));
    expect(b.bids).toEqual(expected);
    expect(topLevels(b, 3).bids.length).toBe(Math.min(3, expected.length));
  });
});
