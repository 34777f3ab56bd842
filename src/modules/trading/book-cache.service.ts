import { Injectable, Logger } from '@nestjs/common';
import type { Tx } from '../../core/database/transaction';
import { OrderBook } from './engine/matching-engine';
import { PairSpec, toLots, toTicks } from './trading.math';
import { BookRow, TradingRepository } from './trading.repository';

interface Entry {
  book: OrderBook;
  /** The book sequence this replica reflects; null while checked out or after a failure (rebuild next time). */
  seq: number | null;
}

/** Beyond this many missed changes a full rebuild is as cheap as a catch-up. */
const CATCH_UP_LIMIT = 5_000;

/**
 * Each instance keeps, per pair, an in-memory replica of the book (the matching engine) that is
 * a cache of Postgres, never the truth:
 * - the truth is the set of resting rows in trading_orders, and trading_pairs.sequence counts
 *   every change of the book (written in the same transaction as the change);
 * - a writer holds the pair's row lock, reads the sequence, and brings the replica to it: nothing
 *   to do when it is current, a catch-up (`book_seq > N`) when another instance wrote meanwhile,
 *   a full rebuild at start or after any failure;
 * - the replica is "checked out" (seq = null) while a transaction mutates it, and only marked
 *   current again after the commit; a rollback leaves it dirty, so it is rebuilt from Postgres.
 * `exclusive` serialises this instance's writers per pair (so they queue in memory instead of
 * each holding a database connection while waiting for the row lock).
 */
@Injectable()
export class BookCacheService {
  private readonly logger = new Logger('OrderBook');
  private readonly entries = new Map<string, Entry>();
  private readonly tails = new Map<string, Promise<void>>();
  /** Counters for tests and metrics: how the replica was brought up to date. */
  readonly stats = { hits: 0, catchUps: 0, rebuilds: 0 };

  constructor(private readonly repo: TradingRepository) {}

  /** Runs `fn` with exclusive use of the pair's replica on this instance. */
  async exclusive<T>(pairId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(pairId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(pairId, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(pairId) === tail) this.tails.delete(pairId);
    }
  }

  /**
   * Inside a transaction that holds the pair lock at sequence `dbSeq`: returns the replica,
   * brought to `dbSeq`, and checks it out. Call `release` after commit (or after a failure that
   * did not touch it) and `invalidate` otherwise.
   */
  async checkout(tx: Tx, pair: PairSpec, dbSeq: number): Promise<OrderBook> {
    let entry = this.entries.get(pair.id);
    if (entry && entry.seq === dbSeq) {
      this.stats.hits += 1;
      entry.seq = null;
      return entry.book;
    }
    if (entry && entry.seq !== null && entry.seq < dbSeq && dbSeq - entry.seq <= CATCH_UP_LIMIT) {
      const from = entry.seq;
      entry.seq = null;
      const rows = await this.repo.bookChangesSince(tx, pair.id, from);
      for (const r of rows) this.apply(entry.book, pair, r);
      this.stats.catchUps += 1;
      return entry.book;
    }
    // Full rebuild from the resting orders.
    this.entries.delete(pair.id);
    const book = new OrderBook();
    const rows = await this.repo.restingBook(tx, pair.id);
    for (const r of rows) this.apply(book, pair, r);
    entry = { book, seq: null };
    this.entries.set(pair.id, entry);
    this.stats.rebuilds += 1;
    if (rows.length > 1000) this.logger.log(`Rebuilt ${pair.id} from ${rows.length} resting orders`);
    return book;
  }

  /** The replica now reflects sequence `seq` (after a commit, or unchanged after a clean failure). */
  release(pairId: string, seq: number) {
    const entry = this.entries.get(pairId);
    if (entry) entry.seq = seq;
  }

  /** Forget the replica: the next writer rebuilds it from Postgres. */
  invalidate(pairId: string) {
    this.entries.delete(pairId);
  }

  private apply(book: OrderBook, pair: PairSpec, r: BookRow) {
    const resting = r.status === 'open' || r.status === 'partially_filled';
    const existing = book.get(r.id);
    if (!resting) {
      if (existing) book.cancel(r.id);
      return;
    }
    const price = toTicks(BigInt(r.price!), pair);
    const lots = toLots(BigInt(r.quantity) - BigInt(r.filled_quantity), pair);
    const priority = Number(r.priority);
    if (existing && existing.price === price && existing.priority === priority) {
      if (existing.remaining !== lots) book.setRemaining(r.id, lots);
      return;
    }
    if (existing) book.cancel(r.id);
    book.add({ id: r.id, owner: r.user_id, side: r.side, price, qty: lots, priority });
  }
}
