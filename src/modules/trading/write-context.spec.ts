import type { Tx } from '../../core/database/transaction';
import { OrderBook } from './engine/matching-engine';
import type { PairSpec } from './trading.math';
import { WriteCtx } from './write-context';

const pair: PairSpec = {
  id: 'BTC-USD',
  base: 'BTC',
  quote: 'USD',
  tickSize: 1n,
  lotSize: 10_000n,
  minPrice: 100n,
  maxPrice: 100_000_000n,
  maxQuantity: 100_000_000_000n,
  minNotional: 100n,
  status: 'trading',
};
// batch() reads only the book and what the write recorded; it never touches the transaction.
const noTx = {} as Tx;

describe('WriteCtx.batch', () => {
  it('announces no book change when the book did not change', () => {
    const ctx = new WriteCtx(noTx, pair, new OrderBook(), 7);
    expect(ctx.batch()).toEqual({ pairId: 'BTC-USD', orders: [], trades: [], book: null });
    expect(ctx.rowSeq).toBe(7);
  });

  it('announces the touched levels, best first, with their totals after the write and the next sequence', () => {
    const book = new OrderBook();
    book.add({ id: 'b1', owner: 'u1', side: 'buy', price: 6_400_000, qty: 100 });
    book.add({ id: 'b2', owner: 'u2', side: 'buy', price: 6_450_000, qty: 50 });
    book.add({ id: 'b3', owner: 'u3', side: 'buy', price: 6_450_000, qty: 25 });
    book.add({ id: 's1', owner: 'u4', side: 'sell', price: 6_600_000, qty: 10 });
    const ctx = new WriteCtx(noTx, pair, book, 7);
    ctx.bookChanged = true;
    ctx.touch('buy', 6_400_000);
    ctx.touch('buy', 6_450_000);
    ctx.touch('sell', 6_600_000);
    ctx.touch('sell', 6_500_000); // emptied: announced with quantity 0
    expect(ctx.rowSeq).toBe(8);
    expect(ctx.batch().book).toEqual({
      pairId: 'BTC-USD',
      sequence: 8,
      bids: [
        ['64500.00', '0.00750000'],
        ['64000.00', '0.01000000'],
      ],
      asks: [
        ['65000.00', '0.00000000'],
        ['66000.00', '0.00100000'],
      ],
    });
  });
});
