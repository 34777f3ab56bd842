import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { TradeView } from './trading.views';

/**
 * In-process feed of the trades this instance committed (the internal price provider listens).
 * Clients hear trades through `TradeExecuted` (trading.events.ts); this never leaves the process.
 */
@Injectable()
export class TradesFeed {
  private readonly local = new EventEmitter();

  constructor() {
    this.local.setMaxListeners(50);
  }

  /** Called after commit with one write's trades. */
  emit(pairId: string, trades: TradeView[]) {
    if (trades.length) this.local.emit('trades', pairId, trades);
  }

  onTrades(listener: (pairId: string, trades: TradeView[]) => void): () => void {
    this.local.on('trades', listener);
    return () => this.local.off('trades', listener);
  }
}
