import type { Tx } from '../../core/database/transaction';
import { formatAmount } from '../ledger/money';
import type { OrderBook, Side } from './engine/matching-engine';
import { PairSpec, formatPrice, fromLots, fromTicks } from './trading.math';
import type { OrderBookView, OrderState, OrderView, TradeView } from './trading.views';

/** What one committed write of a pair announces. */
export interface TradingBatch {
  pairId: string;
  orders: OrderView[];
  trades: TradeView[];
  /** Changed levels ([price, total quantity], "0…" when a level emptied) and the new sequence. */
  book: OrderBookView | null;
}

/** One write of a pair inside the pair's transaction: the transaction, the checked-out book, and what to announce. */
export class WriteCtx {
  /** The replica was changed (a rollback must rebuild it). */
  mutated = false;
  /** Something was written in the transaction for this write (set before the first write). */
  wrote = false;
  /** The book changed: the pair's sequence moves to `newSeq`. */
  bookChanged = false;
  readonly orders = new Map<string, OrderState>();
  readonly trades: TradeView[] = [];
  /** Levels touched: `${side}:${ticks}`. */
  readonly levels = new Set<string>();
  readonly afterCommit: (() => void)[] = [];
  constructor(
    readonly tx: Tx,
    readonly pair: PairSpec,
    readonly book: OrderBook,
    readonly seq: number,
    /** May wait for account locks: only the first write of a transaction (see TradingSettlement.lockAccounts). */
    readonly mayWait = true,
  ) {}
  get newSeq(): number {
    return this.seq + 1;
  }
  /** The book sequence the rows written by this write carry. */
  get rowSeq(): number {
    return this.bookChanged ? this.newSeq : this.seq;
  }
  touch(side: Side, ticks: number) {
    this.levels.add(`${side}:${ticks}`);
  }

  /** What this write announces after commit: its orders, its trades and the levels it touched. */
  batch(): TradingBatch {
    const { pair, book } = this;
    const touched = { buy: [] as number[], sell: [] as number[] };
    for (const key of this.levels) {
      const [side, t] = key.split(':') as [Side, string];
      touched[side].push(Number(t));
    }
    const level = (side: Side, ticks: number): [string, string] => [
      formatPrice(fromTicks(ticks, pair), pair),
      formatAmount(fromLots(book.levelTotal(side, ticks), pair), pair.base),
    ];
    return {
      pairId: pair.id,
      orders: [...this.orders.values()].map((o) => o.view(pair)),
      trades: this.trades,
      book: this.bookChanged
        ? {
            pairId: pair.id,
            sequence: this.newSeq,
            bids: touched.buy.sort((a, b) => b - a).map((t) => level('buy', t)),
            asks: touched.sell.sort((a, b) => a - b).map((t) => level('sell', t)),
          }
        : null,
    };
  }
}

/** A later write of a group-commit batch needs an account another transaction holds: end the batch before it. */
export class WouldBlock extends Error {}
