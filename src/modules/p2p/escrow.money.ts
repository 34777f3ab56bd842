import { Injectable } from '@nestjs/common';
import type { Tx } from '../../core/database/transaction';
import type { AssetSymbol } from '../ledger/assets';
import { LedgerService } from '../ledger/ledger.service';
import type { Transition } from './escrow.machine';
import type { EscrowRow } from './p2p.views';

/**
 * The money side of an escrow, only through the ledger and always in the caller's transaction:
 * the seller's crypto (amount + fee) is held when the escrow opens; a release posts the hold to
 * the buyer (and the fee to the platform); a cancel or refund voids it.
 */
@Injectable()
export class EscrowMoney {
  constructor(private readonly ledger: LedgerService) {}

  async hold(tx: Tx, escrowId: string, sellerId: string, asset: AssetSymbol, total: bigint): Promise<string> {
    const hold = await this.ledger.hold({ key: `p2p-escrow:${escrowId}`, kind: 'p2p_escrow', account: { userId: sellerId }, asset, amount: total, reference: escrowId }, tx);
    return hold.id;
  }

  /** Applies the transition's money step; the transfers it made (for the escrow row). */
  async settle(tx: Tx, cur: EscrowRow, money: Transition['money']): Promise<{ releaseTransfer: string | null; feeTransfer: string | null }> {
    const id = cur.id;
    let releaseTransfer: string | null = null;
    let feeTransfer: string | null = null;
    if (money === 'post_to_buyer') {
      const amount = BigInt(cur.amount);
      const fee = BigInt(cur.fee);
      const main = await this.ledger.postHold(
        {
          key: `p2p:${id}:release`,
          holdId: cur.hold_id!,
          amount,
          to: { userId: cur.buyer_id },
          kind: 'p2p_release',
          final: fee === 0n,
          reference: id,
          metadata: { escrowId: id },
        },
        tx,
      );
      releaseTransfer = main.id;
      if (fee > 0n) {
        const f = await this.ledger.postHold(
          { key: `p2p:${id}:fee`, holdId: cur.hold_id!, amount: fee, to: { system: 'fees' }, kind: 'fee', final: true, reference: id, metadata: { escrowId: id, feeFor: 'p2p' } },
          tx,
        );
        feeTransfer = f.id;
      }
    } else if (money === 'void') {
      await this.ledger.voidHold(cur.hold_id!, tx);
    }
    return { releaseTransfer, feeTransfer };
  }
}
