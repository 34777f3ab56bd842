import { Injectable, Logger } from '@nestjs/common';
import { RedisService } from '../../core/redis/redis.service';
import { ChatService } from '../chat/chat.service';
import { EscrowsRepository, RoomlessEscrow } from './escrows.repository';
import { EscrowRow, EscrowView, toEscrowView } from './p2p.views';

/** The trade's private chat room for its two parties (created once, after the escrow commits). */
@Injectable()
export class EscrowChatRoom {
  private readonly logger = new Logger('P2P');

  constructor(
    private readonly repo: EscrowsRepository,
    private readonly chat: ChatService,
    private readonly redis: RedisService,
  ) {}

  /** The escrow's view with its room (created now if missing; a failure is logged and retried by the sweep). */
  async viewWithRoom(row: EscrowRow): Promise<EscrowView> {
    const roomId = await this.ensure(row).catch((e) => {
      this.logger.warn(`could not create the chat room of escrow ${row.id}: ${(e as Error).message}`);
      return null;
    });
    return toEscrowView({ ...row, chat_room_id: roomId ?? row.chat_room_id });
  }

  async ensure(row: RoomlessEscrow): Promise<string | null> {
    if (row.chat_room_id) return row.chat_room_id;
    // One creator at a time across instances (a retry or the sweep may race the request).
    const lock = this.redis.key('p2p', 'chat-room', row.id);
    if ((await this.redis.client.set(lock, '1', 'PX', 30_000, 'NX')) !== 'OK') return null;
    try {
      const existing = await this.repo.chatRoomOf(row.id);
      if (existing) return existing;
      // A system room: neither party owns it, so neither can remove the other or add anyone.
      const room = await this.chat.createSystemRoom({ name: `P2P trade ${row.id.slice(0, 8)}`, memberIds: [row.seller_id, row.buyer_id] });
      await this.repo.setChatRoom(row.id, room.id);
      return room.id;
    } finally {
      await this.redis.client.del(lock).catch(() => undefined);
    }
  }
}
