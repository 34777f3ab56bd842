import { iso, num } from '../../core/database/sql';
import type { PresenceStatus } from '../presence/presence.rules';

/** What clients see of rooms and messages, and the rows they are built from. */

/** A member's role in a room (chat_room_members.role). */
export type RoomRole = 'owner' | 'member';

export interface MessageView {
  id: string;
  roomId: string;
  /** Per-room sequence: gapless, increasing in commit order. */
  seq: number;
  senderId: string | null;
  senderUsername: string | null;
  content: string;
  clientMessageId: string | null;
  createdAt: string;
}

export interface RoomView {
  id: string;
  name: string;
  isPrivate: boolean;
  createdBy: string | null;
  createdAt: string;
  lastSeq: number;
  lastMessageAt: string | null;
  memberCount: number;
  /** `system`: created by the platform (a P2P trade chat), no owner, fixed membership. */
  kind: 'user' | 'system';
  /** The caller's membership (null when the caller is not a member of this public room). */
  role: RoomRole | null;
  lastReadSeq: number | null;
  unreadCount: number | null;
}

export interface RoomUserView {
  userId: string;
  username: string;
  online: boolean;
  status: PresenceStatus;
  typing: boolean;
  lastSeenAt: string | null;
  role: RoomRole;
  joinedAt: string;
}

export interface ReadState {
  roomId: string;
  lastReadSeq: number;
  lastSeq: number;
  unreadCount: number;
}

export interface CatchUp {
  messages: MessageView[];
  /** More messages follow the returned ones: fetch them with `GET .../messages?afterSeq=`. */
  hasMore: boolean;
}

export interface MessageRow {
  id: string;
  room_id: string;
  seq: string;
  sender_id: string | null;
  sender_username: string | null;
  content: string;
  client_message_id: string | null;
  created_at: Date;
}

export interface RoomRow {
  id: string;
  name: string;
  is_private: boolean;
  created_by: string | null;
  created_at: Date;
  last_seq: string;
  last_message_at: Date | null;
  member_count: number;
  kind: 'user' | 'system';
  role: RoomRole | null;
  last_read_seq: string | null;
  cursor_at: string;
}

export interface MemberRow {
  user_id: string;
  username: string;
  last_seen_at: Date | null;
  role: RoomRole;
  joined_at: Date;
}

export function toMessageView(r: MessageRow): MessageView {
  return {
    id: r.id,
    roomId: r.room_id,
    seq: num(r.seq),
    senderId: r.sender_id,
    senderUsername: r.sender_username ?? null,
    content: r.content,
    clientMessageId: r.client_message_id,
    createdAt: iso(r.created_at)!,
  };
}

export function toRoomView(r: RoomRow): RoomView {
  const lastSeq = num(r.last_seq);
  const member = r.role !== null && r.role !== undefined;
  const lastRead = member ? num(r.last_read_seq) : null;
  return {
    id: r.id,
    name: r.name,
    isPrivate: r.is_private,
    createdBy: r.created_by,
    createdAt: iso(r.created_at)!,
    lastSeq,
    lastMessageAt: iso(r.last_message_at),
    memberCount: Number(r.member_count),
    kind: r.kind ?? 'user',
    role: member ? r.role : null,
    lastReadSeq: lastRead,
    unreadCount: lastRead === null ? null : Math.max(0, lastSeq - lastRead),
  };
}
