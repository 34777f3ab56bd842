import { Injectable } from '@nestjs/common';
import { notFound } from '../../core/http/domain-error';
import { ChatService } from '../chat/chat.service';
import { sealDispute, SealInput } from './dispute-seal';
import { DisputeInput, EscrowsRepository } from './escrows.repository';
import { EscrowRow, toEscrowView } from './p2p.views';

export type DisputeOpening = Omit<DisputeInput, 'sealHash' | 'sealedChatSeq'>;

/** Dispute seals: the trade chat (up to the opening) and the dispute's own words, hashed; re-checked for admins. */
@Injectable()
export class EscrowDisputes {
  constructor(
    private readonly repo: EscrowsRepository,
    private readonly chat: ChatService,
  ) {}

  /** Seals the trade chat (up to now) and the dispute's own words and evidence. */
  async seal(row: EscrowRow, d: DisputeOpening): Promise<DisputeInput> {
    const messages = row.chat_room_id ? await this.transcript(row.chat_room_id) : [];
    const sealHash = sealDispute(this.sealInput(row, d, messages));
    return { ...d, sealHash, sealedChatSeq: messages.at(-1)?.seq ?? 0 };
  }

  /** Recomputes a dispute's seal from the stored record and chat (admins). */
  async verifySeal(id: string): Promise<{ escrowId: string; sealHash: string; recomputed: string; matches: boolean; sealedChatSeq: number }> {
    const row = await this.repo.row(id);
    if (!row) throw notFound('Escrow not found');
    if (!row.d_escrow_id) throw notFound('This escrow has no dispute');
    const sealedChatSeq = Number(row.d_sealed_chat_seq ?? 0);
    const messages = row.chat_room_id && sealedChatSeq > 0 ? await this.transcript(row.chat_room_id, sealedChatSeq) : [];
    const recomputed = sealDispute(
      this.sealInput(
        row,
        { openedBy: row.d_opened_by ?? null, openedByRole: row.d_opened_by_role!, reason: row.d_reason!, evidence: row.d_evidence ?? [] },
        messages,
      ),
    );
    return { escrowId: id, sealHash: row.d_seal_hash!, recomputed, matches: recomputed === row.d_seal_hash, sealedChatSeq };
  }

  private sealInput(row: EscrowRow, d: DisputeOpening, messages: SealInput['messages']): SealInput {
    const v = toEscrowView(row);
    return {
      escrow: {
        id: v.id,
        sellerId: v.sellerId,
        buyerId: v.buyerId,
        asset: v.asset,
        amount: v.amount,
        fiatCurrency: v.fiatCurrency,
        fiatAmount: v.fiatAmount,
        paymentMethod: v.paymentMethod,
      },
      dispute: { openedBy: d.openedBy, openedByRole: d.openedByRole, reason: d.reason, evidence: d.evidence },
      chatRoomId: row.chat_room_id,
      messages,
    };
  }

  /** The trade chat, oldest first, optionally only up to `uptoSeq`. */
  private async transcript(roomId: string, uptoSeq?: number): Promise<SealInput['messages']> {
    const out: SealInput['messages'] = [];
    let after = 0;
    for (let pages = 0; pages < 100; pages++) {
      const page = await this.chat.catchUp(roomId, after, 500);
      for (const m of page.messages) {
        if (uptoSeq !== undefined && m.seq > uptoSeq) return out;
        out.push({ seq: m.seq, senderId: m.senderId, content: m.content, createdAt: m.createdAt });
      }
      if (!page.hasMore || !page.messages.length) break;
      after = page.messages[page.messages.length - 1].seq;
    }
    return out;
  }
}
