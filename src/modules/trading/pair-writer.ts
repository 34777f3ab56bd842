import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { pgCode, withTransaction } from '../../core/database/transaction';
import { DomainError } from '../../core/http/domain-error';
import { Announcer } from '../../core/realtime/announce';
import { BookCacheService } from './book-cache.service';
import { GroupCommitQueue } from './group-commit.queue';
import type { PairSpec } from './trading.math';
import { OrderBookUpdated, OrderUpdated, TradeExecuted, tradingRoom } from './trading.events';
import { TradingRepository } from './trading.repository';
import { TradesFeed } from './trades.feed';
import type { OrderView } from './trading.views';
import { TradingBatch, WouldBlock, WriteCtx } from './write-context';

const MAX_ATTEMPTS = 4;
/** Most placements one group-commit transaction takes. */
const MAX_BATCH = 32;

type Work<T> = (ctx: WriteCtx) => Promise<T>;
interface Queued {
  pair: PairSpec;
  work: Work<OrderView>;
  resolve: (v: OrderView) => void;
  reject: (e: unknown) => void;
}
type Outcome = { ok: OrderView } | { err: unknown };

/**
 * The one writer of each pair, across instances: every write of a pair runs in one Postgres
 * transaction that starts by locking the pair's row, and everything the write does — the hold,
 * matching, every fill's ledger postings, the order and trade rows and the new book sequence —
 * commits or rolls back with it. Why this and not a queue per pair or a leased owner:
 * - the lock lives exactly as long as the transaction: a crashed instance's connection dies and
 *   Postgres releases the lock and rolls back its half-done work, with no lease to expire and no
 *   owner to fail over;
 * - it makes matching and settlement atomic (a trade row never exists without its money
 *   movements, and vice versa) and lets the HTTP request answer with the final order state;
 * - the client's request waits only for its own transaction (a queue adds a Redis hop and a
 *   worker hand-off to every order's latency);
 * - pairs lock independently, so different pairs match in parallel.
 * The cost is that one pair's throughput is bounded by one transaction at a time; inside an
 * instance, writers of a pair queue in memory (BookCacheService.exclusive) so they do not each
 * hold a pooled connection while waiting for the row lock, and placements that queue up meanwhile
 * share one transaction (group commit). Deadlocks between pairs that settle the same accounts are
 * possible in principle (Postgres detects them); such a write is retried.
 * After commit it announces each write's orders, book levels and trades.
 */
@Injectable()
export class PairWriter {
  private readonly logger = new Logger('Trading');
  /** Group-commit counters (tests, metrics): transactions that carried several placements, and how many. */
  readonly batchStats = { batches: 0, orders: 0, fallbacks: 0, deferred: 0, retries: 0 };
  private readonly placements = new GroupCommitQueue<Queued>({
    maxBatch: MAX_BATCH,
    schedule: (pairId, turn) => void this.cache.exclusive(pairId, turn),
    process: (_pairId, items) => this.placeBatch(items[0].pair, items),
  });

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: TradingRepository,
    private readonly cache: BookCacheService,
    private readonly announcer: Announcer,
    private readonly feed: TradesFeed,
  ) {}

  /**
   * Runs one write of a pair: in-process queue → transaction → pair row lock → replica at the
   * locked sequence → `work` → new sequence → commit → announce. Retried on deadlock or
   * serialization failure (everything rolled back, the replica rebuilt).
   */
  write<T>(pair: PairSpec, work: Work<T>): Promise<T> {
    return this.cache.exclusive(pair.id, () => this.runAlone(pair, work));
  }

  /**
   * A placement: like `write`, but placements that queue up while the pair's writer is busy go
   * into ONE transaction (up to MAX_BATCH): one pair lock, one COMMIT (one WAL flush) for the
   * lot, each order still with its own book sequence, settlement and events. An order refused
   * cleanly (a DomainError before it wrote anything) fails alone; any other failure rolls the
   * whole transaction back and every order of it is run again on its own, so one bad order never
   * decides another's fate.
   */
  place(pair: PairSpec, work: Work<OrderView>): Promise<OrderView> {
    return new Promise<OrderView>((resolve, reject) => {
      this.placements.push(pair.id, { pair, work, resolve, reject });
    });
  }

  private async runAlone<T>(pair: PairSpec, work: Work<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let ctx: WriteCtx | null = null;
      try {
        return await withTransaction(this.ds, async (tx) => {
          const seq = await this.repo.lockPair(tx, pair.id);
          const book = await this.cache.checkout(tx, pair, seq);
          const c = new WriteCtx(tx, pair, book, seq);
          ctx = c;
          const result = await work(c);
          const batch = c.batch();
          if (c.bookChanged) await this.repo.setSequence(tx, pair.id, c.newSeq);
          tx.afterCommit(() => {
            this.cache.release(pair.id, c.bookChanged ? c.newSeq : c.seq);
            this.announce(c, batch);
          });
          return result;
        });
      } catch (e) {
        const c = ctx as WriteCtx | null;
        if (c && !c.mutated) this.cache.release(pair.id, c.seq);
        else this.cache.invalidate(pair.id);
        const code = pgCode(e);
        if ((code === '40P01' || code === '40001') && attempt < MAX_ATTEMPTS) {
          this.batchStats.retries += 1;
          this.logger.warn(`Retrying a write of ${pair.id} after ${code} (attempt ${attempt})`);
          continue;
        }
        throw e;
      }
    }
  }

  /** One turn of the group-commit queue; returns the placements deferred to the next turn. */
  private async placeBatch(pair: PairSpec, items: Queued[]): Promise<Queued[]> {
    if (items.length === 1) {
      await this.runAlone(pair, items[0].work).then(items[0].resolve, items[0].reject);
      return [];
    }
    let outcomes: Outcome[];
    try {
      outcomes = await this.runBatch(pair, items);
    } catch {
      // The batch rolled back as a whole: each order runs again on its own.
      this.batchStats.fallbacks += 1;
      for (const it of items) await this.runAlone(pair, it.work).then(it.resolve, it.reject);
      return [];
    }
    this.batchStats.batches += 1;
    this.batchStats.orders += outcomes.length;
    outcomes.forEach((o, i) => ('ok' in o ? items[i].resolve(o.ok) : items[i].reject(o.err)));
    const deferred = items.slice(outcomes.length);
    this.batchStats.deferred += deferred.length;
    return deferred;
  }

  private async runBatch(pair: PairSpec, items: Queued[]): Promise<Outcome[]> {
    let mutated = false;
    let seq0 = -1;
    try {
      return await withTransaction(this.ds, async (tx) => {
        seq0 = await this.repo.lockPair(tx, pair.id);
        const book = await this.cache.checkout(tx, pair, seq0);
        let seq = seq0;
        const done: { ctx: WriteCtx; batch: TradingBatch }[] = [];
        const outcomes: Outcome[] = [];
        for (const [i, it] of items.entries()) {
          const c = new WriteCtx(tx, pair, book, seq, i === 0);
          try {
            const view = await it.work(c);
            mutated ||= c.mutated;
            done.push({ ctx: c, batch: c.batch() });
            if (c.bookChanged) seq = c.newSeq;
            outcomes.push({ ok: view });
          } catch (e) {
            mutated ||= c.mutated;
            // It needs a lock held elsewhere: the batch ends here (this and the rest go next).
            if (e instanceof WouldBlock && !c.wrote && !c.mutated) break;
            // Only a refusal that left nothing behind in the transaction may fail alone.
            if (e instanceof DomainError && !c.wrote && !c.mutated) outcomes.push({ err: e });
            else throw e;
          }
        }
        if (seq !== seq0) await this.repo.setSequence(tx, pair.id, seq);
        const final = seq;
        tx.afterCommit(() => {
          this.cache.release(pair.id, final);
          for (const d of done) this.announce(d.ctx, d.batch);
        });
        return outcomes;
      });
    } catch (e) {
      if (!mutated && seq0 >= 0) this.cache.release(pair.id, seq0);
      else this.cache.invalidate(pair.id);
      throw e;
    }
  }

  /** After commit: the write's order updates (to each owner), book levels and trades (to the pair's room), then its own hooks. */
  private announce(c: WriteCtx, batch: TradingBatch) {
    const room = { room: tradingRoom(batch.pairId) };
    for (const o of batch.orders) void this.announcer.announce(OrderUpdated, o, { user: o.userId });
    if (batch.book) void this.announcer.announce(OrderBookUpdated, batch.book, room);
    for (const t of batch.trades) void this.announcer.announce(TradeExecuted, t, room);
    this.feed.emit(batch.pairId, batch.trades);
    for (const fn of c.afterCommit) fn();
  }
}
