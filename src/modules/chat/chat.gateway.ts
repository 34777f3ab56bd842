import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { CurrentUser } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { RealtimeGateway, ok } from '../../core/realtime/realtime-gateway.decorator';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { ChatService } from './chat.service';
import { chatRoomChannel } from './chat.events';
import { JoinRoomDto, MarkRoomReadDto, RoomRefDto, SendMessageDto } from './dto/chat.dto';

/**
 * Chat over Socket.IO. A socket only ever enters `chat:room:<id>` through `join_room`, after
 * the membership check; leaving (or being removed) takes every socket of the user out, on
 * every instance.
 */
@RealtimeGateway()
export class ChatGateway {
  constructor(
    private readonly chat: ChatService,
    private readonly publisher: RealtimePublisher,
  ) {}

  /**
   * Joins (public rooms) or enters (rooms one is a member of) and starts listening. The ack
   * carries the room, its members and what this client missed: every message after
   * `lastSeq`, in order (or the latest page without it).
   */
  @SubscribeMessage('join_room')
  async joinRoom(@ConnectedSocket() socket: Socket, @CurrentUser() user: AuthUser, @MessageBody() dto: JoinRoomDto) {
    const { room, newMember } = await this.chat.join(user.id, dto.roomId);
    // Listen first, then read: a message committed in between arrives live or in the
    // catch-up (or both; clients keep messages by seq), never neither.
    await socket.join(chatRoomChannel(dto.roomId));
    // A new member was announced by the join itself; a member coming back (another tab, a
    // reconnect) is announced once per window, not once per socket.
    const [catchUp, members, entered] = await Promise.all([
      this.chat.catchUp(dto.roomId, dto.lastSeq),
      this.chat.membersOf(dto.roomId),
      newMember ? false : this.chat.claimEntry(dto.roomId, user.id),
    ]);
    if (entered) this.publisher.toRoomExceptUser(chatRoomChannel(dto.roomId), user.id, 'user_joined', { roomId: dto.roomId, userId: user.id });
    const lastSeq = Math.max(room.lastSeq, catchUp.messages.at(-1)?.seq ?? 0);
    return ok({ room: { ...room, lastSeq }, members, messages: catchUp.messages, hasMore: catchUp.hasMore, lastSeq });
  }

  /** Leaves the room (membership ends; `user_left` to the room). */
  @SubscribeMessage('leave_room')
  async leaveRoom(@CurrentUser() user: AuthUser, @MessageBody() dto: RoomRefDto) {
    await this.chat.leave(user.id, dto.roomId);
    return ok({ roomId: dto.roomId, left: true });
  }

  /** Stops listening on this socket only, staying a member. */
  @SubscribeMessage('unwatch_room')
  async unwatchRoom(@ConnectedSocket() socket: Socket, @MessageBody() dto: RoomRefDto) {
    await socket.leave(chatRoomChannel(dto.roomId));
    return ok({ roomId: dto.roomId, watching: false });
  }

  @SubscribeMessage('send_message')
  async sendMessage(@CurrentUser() user: AuthUser, @MessageBody() dto: SendMessageDto) {
    const { message } = await this.chat.send(user.id, dto.roomId, dto.content, dto.clientMessageId);
    return ok(message);
  }

  @SubscribeMessage('start_typing')
  async startTyping(@CurrentUser() user: AuthUser, @MessageBody() dto: RoomRefDto) {
    await this.chat.setTyping(user.id, dto.roomId, true);
    return ok({ roomId: dto.roomId, typing: true });
  }

  @SubscribeMessage('stop_typing')
  async stopTyping(@CurrentUser() user: AuthUser, @MessageBody() dto: RoomRefDto) {
    await this.chat.setTyping(user.id, dto.roomId, false);
    return ok({ roomId: dto.roomId, typing: false });
  }

  @SubscribeMessage('mark_room_read')
  async markRead(@CurrentUser() user: AuthUser, @MessageBody() dto: MarkRoomReadDto) {
    return ok(await this.chat.markRead(user.id, dto.roomId, dto.seq));
  }
}
