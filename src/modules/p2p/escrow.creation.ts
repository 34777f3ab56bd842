import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { Tx, withTransaction } from '../../core/database/transaction';
import { conflict, notFound } from '../../core/http/domain-error';
import { feeFor } from '../ledger/money';
import { EscrowChatRoom } from './escrow.chat-room';
import { EscrowMoney } from './escrow.money';
import { checkBuyerLimits, NewEscrow, sameTerms } from './escrow.rules';
import { EscrowWindows } from './escrow.windows';
import { EscrowsRepository } from './escrows.repository';
import { P2PAnnouncer } from './p2p.announcer';
import { EscrowRow, EscrowView, toEscrowView } from './p2p.views';

/**
 * Opens an escrow in one transaction: checks the offer is still active and the buyer exists
 * (and, for a buyer taking an offer, their limits), inserts it (an Idempotency-Key replay
 * returns the first one, nothing held twice), holds the seller's crypto plus the fee, and
 * records the timeline and the notification. After commit: its chat room, its payment-window
 * job and the announcement.
 */
@Injectable()
export class EscrowCreation {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: EscrowsRepository,
    private readonly money: EscrowMoney,
    private readonly chatRoom: EscrowChatRoom,
    private readonly windows: EscrowWindows,
    private readonly announcer: P2PAnnouncer,
  ) {}

  async create(n: NewEscrow): Promise<EscrowView> {
    const fee = feeFor(n.amount, this.config.fees.p2pBps);
    const result = await withTransaction(this.ds, async (tx): Promise<{ row: EscrowRow; replayed: boolean }> => {
      if (n.offerId) {
        const status = await this.repo.offerStatusForShare(tx, n.offerId);
        if (status !== 'active') throw conflict(`The offer is ${status ?? 'gone'}; it cannot be accepted`);
      }
      if (!(await this.repo.userExists(tx, n.buyerId))) throw notFound('Buyer not found');
      if (n.creatorRole === 'buyer') await this.assertBuyerMayOpen(tx, n.buyerId, n.creationKey);
      const id = await this.repo.insert(tx, n, fee);
      if (!id) {
        // A replay of the same Idempotency-Key: the first escrow, nothing held twice.
        const prev = await this.repo.byCreationKey(tx, n.creationKey);
        if (!sameTerms(prev, n)) throw conflict('Idempotency-Key was already used for a different escrow');
        return { row: prev, replayed: true };
      }
      const holdId = await this.money.hold(tx, id, n.sellerId, n.asset, n.amount + fee);
      await this.repo.setHold(tx, id, holdId);
      await this.repo.recordEvent(tx, id, null, 'awaiting_payment', n.createdBy, n.creatorRole, null);
      const row = (await this.repo.row(id, tx))!;
      await this.announcer.record(tx, { escrow: toEscrowView(row), change: 'created', actorId: n.createdBy });
      return { row, replayed: false };
    });
    if (result.replayed) {
      if (!result.row.chat_room_id) return this.chatRoom.viewWithRoom(result.row);
      return toEscrowView(result.row);
    }
    const view = await this.chatRoom.viewWithRoom(result.row);
    await this.windows.schedule('payment-window', view.id, new Date(view.paymentDeadline));
    await this.announcer.announce(view, 'created', n.createdBy);
    return view;
  }

  /**
   * The buyer limits (escrow.rules), serialised per buyer (transaction-scoped advisory lock) so
   * parallel accepts cannot both slip under them. A replay of an earlier accept (same creation
   * key) is not counted.
   */
  private async assertBuyerMayOpen(tx: Tx, buyerId: string, creationKey: string | null) {
    await this.repo.lockBuyer(tx, buyerId);
    if (creationKey && (await this.repo.creationKeyUsed(tx, creationKey))) return;
    checkBuyerLimits(await this.repo.buyerCounts(tx, buyerId), this.config.p2pLimits);
  }
}
