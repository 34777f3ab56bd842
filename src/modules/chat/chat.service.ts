import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../core/auth/auth-user';
import type { Page } from '../../core/http/pagination';
import { ChatMessages } from './chat.messages';
import { ChatRooms } from './chat.rooms';
import type { CatchUp, MessageView, ReadState, RoomUserView, RoomView } from './chat.views';
import { TypingService } from './typing.service';

/**
 * Chat's use cases, the one entry point of every transport (REST, Socket.IO, GraphQL) and of
 * other modules (P2P trade rooms, presence relay), so the rules (members only, rate limit,
 * idempotent sends) live once. Rooms and members are `ChatRooms`; messages and read state
 * `ChatMessages`; typing `TypingService`; SQL `ChatRepository`; Lua `chat.scripts.ts`.
 * State changes commit first; the realtime announcements follow.
 */
@Injectable()
export class ChatService {
  constructor(
    private readonly rooms: ChatRooms,
    private readonly messages: ChatMessages,
    private readonly typing: TypingService,
  ) {}

  // ---------------------------------------------------------------- rooms

  createRoom(userId: string, input: { name: string; isPrivate?: boolean; memberIds?: string[] }): Promise<RoomView> {
    return this.rooms.createRoom(userId, input);
  }

  /** A platform-owned private room with fixed membership (a P2P trade chat). */
  createSystemRoom(input: { name: string; memberIds: string[] }): Promise<RoomView> {
    return this.rooms.createSystemRoom(input);
  }

  myRooms(userId: string, limit?: number, cursor?: string): Promise<Page<RoomView>> {
    return this.rooms.myRooms(userId, limit, cursor);
  }

  publicRooms(userId: string, limit?: number, cursor?: string): Promise<Page<RoomView>> {
    return this.rooms.publicRooms(userId, limit, cursor);
  }

  getRoom(userId: string, roomId: string): Promise<RoomView> {
    return this.rooms.getRoom(userId, roomId);
  }

  join(userId: string, roomId: string): Promise<{ room: RoomView; newMember: boolean }> {
    return this.rooms.join(userId, roomId);
  }

  /** Whether a member's entry into the room is the first of the announce window (see ChatRooms.claimEntry). */
  claimEntry(roomId: string, userId: string): Promise<boolean> {
    return this.rooms.claimEntry(roomId, userId);
  }

  leave(userId: string, roomId: string): Promise<void> {
    return this.rooms.leave(userId, roomId);
  }

  addMembers(actor: AuthUser, roomId: string, userIds: string[]): Promise<string[]> {
    return this.rooms.addMembers(actor, roomId, userIds);
  }

  removeMember(actor: AuthUser, roomId: string, userId: string): Promise<void> {
    return this.rooms.removeMember(actor, roomId, userId);
  }

  /** Throws 404 for an unknown room and 403 when the user is not a member; returns the room. */
  assertMember(userId: string, roomId: string): Promise<RoomView> {
    return this.rooms.assertMember(userId, roomId);
  }

  /** Members with presence and typing state (members only). */
  async roomUsers(userId: string, roomId: string): Promise<RoomUserView[]> {
    await this.rooms.assertMember(userId, roomId);
    return this.rooms.membersOf(roomId);
  }

  membersOf(roomId: string, limit?: number): Promise<RoomUserView[]> {
    return this.rooms.membersOf(roomId, limit);
  }

  /** Everyone who shares a room with the user (the audience of their presence). */
  roomMatesOf(userId: string, opts: { maxRoomMembers?: number; limit?: number } = {}): Promise<string[]> {
    return this.rooms.roomMatesOf(userId, opts);
  }

  // ---------------------------------------------------------------- messages

  send(userId: string, roomId: string, content: string, clientMessageId?: string | null): Promise<{ message: MessageView; replayed: boolean }> {
    return this.messages.send(userId, roomId, content, clientMessageId);
  }

  history(userId: string, roomId: string, opts: { limit?: number; cursor?: string; afterSeq?: number }): Promise<Page<MessageView>> {
    return this.messages.history(userId, roomId, opts);
  }

  /** What a reconnecting client missed after `lastSeq` (see ChatMessages.catchUp). */
  catchUp(roomId: string, lastSeq: number | undefined, limit?: number): Promise<CatchUp> {
    return this.messages.catchUp(roomId, lastSeq, limit);
  }

  markRead(userId: string, roomId: string, seq?: number): Promise<ReadState> {
    return this.messages.markRead(userId, roomId, seq);
  }

  // ---------------------------------------------------------------- typing

  /** Typing for oneself, in a room one is a member of. */
  async setTyping(userId: string, roomId: string, typing: boolean): Promise<void> {
    await this.rooms.assertMember(userId, roomId);
    if (typing) await this.typing.start(roomId, userId);
    else await this.typing.stop(roomId, userId);
  }
}
