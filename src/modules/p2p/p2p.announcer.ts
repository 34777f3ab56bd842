import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Announcer } from '../../core/realtime/announce';
import { NotificationsService } from '../notifications/notifications.service';
import type { Executor } from '../../core/database/transaction';
import { OutboxService } from '../../core/outbox/outbox.service';
import type { EscrowAction } from './escrow.machine';
import { EscrowUpdated } from './p2p.events';
import type { EscrowView } from './p2p.views';

export type EscrowChange = EscrowAction | 'created';

interface Note {
  to: string[];
  title: string;
  body: string;
}

/** Outbox kind of an escrow's inbox notification. */
export const ESCROW_NOTIFICATION = 'p2p.escrow_notification';

export interface EscrowNotification {
  escrow: EscrowView;
  change: EscrowChange;
  actorId: string | null;
}

/**
 * An escrow change is told two ways:
 * - the inbox notification for whoever should act or know must not be lost: `record()` writes
 *   it into the outbox in the change's own transaction, and the outbox job delivers it (at least
 *   once; deduplicated per escrow and status, so it lands once);
 * - after the commit, `announce()` sends the live `escrow_update {escrow}` to both parties'
 *   sockets (every device, every instance) and `escrowUpdated` to GraphQL subscribers.
 */
@Injectable()
export class P2PAnnouncer {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly announcer: Announcer,
    private readonly notifications: NotificationsService,
    private readonly outbox: OutboxService,
  ) {
    outbox.register<EscrowNotification>(ESCROW_NOTIFICATION, (p) => this.notify(p));
  }

  /** In the escrow change's transaction: its notification, delivered after commit by the outbox. */
  async record(tx: Executor, n: EscrowNotification): Promise<void> {
    await this.outbox.add(tx, { kind: ESCROW_NOTIFICATION, payload: n, dedupeKey: `p2p:${n.escrow.id}:${n.escrow.status}` });
  }

  async announce(escrow: EscrowView, _change: EscrowChange, _actorId: string | null): Promise<void> {
    void this.announcer.announce(EscrowUpdated, escrow, { users: [escrow.sellerId, escrow.buyerId] });
  }

  /** The outbox handler: idempotent through the notifications' dedupe key. */
  private async notify({ escrow, change, actorId }: EscrowNotification): Promise<void> {
    const notes = await this.notesFor(escrow, change, actorId);
    for (const n of notes) {
      if (!n.to.length) continue;
      await this.notifications.notify(
        n.to,
        { type: 'escrow', title: n.title.slice(0, 200), body: n.body.slice(0, 2000), data: { escrowId: escrow.id, status: escrow.status, change } },
        { dedupeKey: `p2p:${escrow.id}:${escrow.status}` },
      );
    }
  }

  private async notesFor(e: EscrowView, change: EscrowChange, actorId: string | null): Promise<Note[]> {
    const crypto = `${e.amount} ${e.asset}`;
    const fiat = `${e.fiatAmount} ${e.fiatCurrency}`;
    const other = (id: string | null) => (id === e.sellerId ? [e.buyerId] : id === e.buyerId ? [e.sellerId] : [e.sellerId, e.buyerId]);
    const both = [e.sellerId, e.buyerId];
    switch (change) {
      case 'created': {
        const to = other(actorId);
        const forBuyer = to.includes(e.buyerId);
        return [
          {
            to,
            title: 'New P2P trade',
            body: forBuyer
              ? `You are buying ${crypto} for ${fiat} via ${e.paymentMethod}. Pay by ${e.paymentDeadline}, then mark the trade as paid.`
              : `${crypto} of yours is held in escrow for a buyer paying ${fiat} via ${e.paymentMethod}.`,
          },
        ];
      }
      case 'confirm':
        return [
          {
            to: [e.sellerId],
            title: 'The buyer marked the trade as paid',
            body: `Check that ${fiat} arrived via ${e.paymentMethod}, then release ${crypto} (by ${e.releaseDeadline}).`,
          },
        ];
      case 'release':
        return [{ to: [e.buyerId], title: 'Crypto released', body: `${crypto} from your P2P trade is now in your wallet.` }];
      case 'cancel':
        return [{ to: [e.sellerId], title: 'Trade cancelled by the buyer', body: `${crypto} held for the trade is available again.` }];
      case 'expire_payment':
        return [
          {
            to: both,
            title: 'Trade cancelled: the payment window ended',
            body: `No payment was marked in time; ${crypto} held for the trade went back to the seller.`,
          },
        ];
      case 'dispute':
      case 'expire_release':
        return [
          {
            to: change === 'dispute' ? other(actorId) : both,
            title: change === 'dispute' ? 'Your P2P trade is disputed' : 'Trade disputed: the release window ended',
            body: `${crypto} stays in escrow until an arbitrator decides. Reason: ${e.dispute?.reason ?? ''}`,
          },
          { to: await this.adminIds(), title: 'P2P dispute to arbitrate', body: `Escrow ${e.id}: ${crypto} for ${fiat}.` },
        ];
      case 'resolve_release':
        return [{ to: both, title: 'Dispute resolved: released to the buyer', body: `${crypto} went to the buyer. ${e.dispute?.resolutionNote ?? ''}`.trim() }];
      case 'resolve_refund':
        return [{ to: both, title: 'Dispute resolved: refunded to the seller', body: `${crypto} went back to the seller. ${e.dispute?.resolutionNote ?? ''}`.trim() }];
    }
  }

  private async adminIds(): Promise<string[]> {
    const rows: { id: string }[] = await this.ds.query(`SELECT id FROM users WHERE 'admin' = ANY(roles) ORDER BY created_at LIMIT 100`);
    return rows.map((r) => r.id);
  }
}
