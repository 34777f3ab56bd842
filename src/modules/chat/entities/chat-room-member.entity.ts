import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RoomRole = 'owner' | 'member';

@Entity('chat_room_members')
export class ChatRoomMemberEntity {
  @PrimaryColumn({ type: 'uuid' })
  roomId: string;

  @PrimaryColumn({ type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 16, default: 'member' })
  role: RoomRole;

  /** Everything up to this sequence is read; unread = room.lastSeq - lastReadSeq. */
  @Column({ type: 'bigint', default: 0 })
  lastReadSeq: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  joinedAt: Date;
}
