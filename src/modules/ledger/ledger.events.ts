import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Announcer, audienceUsers, defineEvent } from '../../core/realtime/announce';
import { LedgerRepository } from './ledger.repository';
import { ASSET_SYMBOLS, AssetSymbol } from './assets';
import { formatAmount } from './money';
import type { TransferRecord } from './ledger.types';

export interface BalanceView {
  asset: AssetSymbol;
  available: string;
  held: string;
  total: string;
}

export interface TransactionCompletedView {
  transactionId: string;
  details: {
    type: string;
    asset: AssetSymbol;
    amount: string;
    fromUserId: string | null;
    toUserId: string | null;
    reference: string | null;
    createdAt: string;
  };
}

export const balanceTopic = (userId: string) => `balance:${userId}`;
export const transactionTopic = (userId: string) => `transaction:${userId}`;

export interface BalancesView {
  userId: string;
  balances: BalanceView[];
}

/** One user's balances changed: `balance_update` to their sockets, `balanceUpdated` on their GraphQL topic. */
export const BalanceUpdated = defineEvent<BalancesView>({
  socket: 'balance_update',
  graphql: { topic: (b) => balanceTopic(b.userId), field: 'balanceUpdated' },
});

/** A movement committed: `transaction_complete` to both parties' sockets, `transactionCompleted` on each one's topic. */
export const TransactionCompleted = defineEvent<TransactionCompletedView>({
  socket: 'transaction_complete',
  graphql: (view, audience) => audienceUsers(audience).map((u) => [transactionTopic(u), { transactionCompleted: view }] as const),
});

/**
 * Live updates after a ledger commit: `balance_update` (coalesced per user over a few ms, so a
 * burst of movements costs one balance read) and `transaction_complete` to both parties, on
 * Socket.IO and GraphQL alike.
 */
@Injectable()
export class LedgerEvents implements OnModuleDestroy {
  private readonly logger = new Logger('LedgerEvents');
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: LedgerRepository,
    private readonly announcer: Announcer,
  ) {}

  transferred(t: TransferRecord, fromUserId: string | null, toUserId: string | null) {
    const view: TransactionCompletedView = {
      transactionId: t.id,
      details: {
        type: t.kind,
        asset: t.asset,
        amount: formatAmount(t.amount, t.asset),
        fromUserId,
        toUserId,
        reference: t.reference,
        createdAt: t.createdAt.toISOString(),
      },
    };
    const users = [...new Set([fromUserId, toUserId].filter((x): x is string => !!x))];
    if (users.length) void this.announcer.announce(TransactionCompleted, view, { users });
    this.balancesChanged(users);
  }

  balancesChanged(userIds: string[]) {
    for (const u of userIds) this.pending.add(u);
    if (!this.timer && this.pending.size) this.timer = setTimeout(() => void this.flush(), 5);
  }

  async flush() {
    this.timer = null;
    const users = [...this.pending];
    this.pending = new Set();
    if (!users.length) return;
    try {
      const rows = await this.repo.balancesOf(users);
      for (const userId of users) {
        const mine = new Map(rows.filter((r) => r.user_id === userId).map((r) => [r.asset, r]));
        const balances = ASSET_SYMBOLS.map((asset) => toBalanceView(asset, mine.get(asset)));
        void this.announcer.announce(BalanceUpdated, { userId, balances }, { user: userId });
      }
    } catch (e) {
      this.logger.warn({ err: e }, 'could not publish balance updates');
    }
  }

  onModuleDestroy() {
    if (this.timer) clearTimeout(this.timer);
  }
}

export function toBalanceView(asset: AssetSymbol, r?: { posted: string; held: string }): BalanceView {
  const total = r ? BigInt(r.posted) : 0n;
  const held = r ? BigInt(r.held) : 0n;
  return { asset, available: formatAmount(total - held, asset), held: formatAmount(held, asset), total: formatAmount(total, asset) };
}
