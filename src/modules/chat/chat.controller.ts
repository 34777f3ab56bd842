import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CurrentUser } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { forbidden } from '../../core/http/domain-error';
import { ChatService } from './chat.service';
import { AddMembersDto, CreateRoomDto, MarkReadDto, MessagesQueryDto, PageQueryDto, SendMessageBodyDto, TypingDto } from './dto/chat.dto';

const uuid = () => new ParseUUIDPipe();

@Controller('chat/rooms')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post()
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateRoomDto) {
    return this.chat.createRoom(user.id, dto);
  }

  /** My rooms, with `unreadCount`. */
  @Get()
  mine(@CurrentUser() user: AuthUser, @Query() q: PageQueryDto) {
    return this.chat.myRooms(user.id, q.limit, q.cursor);
  }

  /** Public rooms to discover and join. */
  @Get('public')
  publicRooms(@CurrentUser() user: AuthUser, @Query() q: PageQueryDto) {
    return this.chat.publicRooms(user.id, q.limit, q.cursor);
  }

  @Get(':roomId')
  get(@CurrentUser() user: AuthUser, @Param('roomId', uuid()) roomId: string) {
    return this.chat.getRoom(user.id, roomId);
  }

  @Post(':roomId/join')
  @HttpCode(200)
  async join(@CurrentUser() user: AuthUser, @Param('roomId', uuid()) roomId: string) {
    return (await this.chat.join(user.id, roomId)).room;
  }

  @Post(':roomId/leave')
  @HttpCode(204)
  async leave(@CurrentUser() user: AuthUser, @Param('roomId', uuid()) roomId: string) {
    await this.chat.leave(user.id, roomId);
  }

  /** The owner (or an admin) adds members, e.g. to a private room. */
  @Post(':roomId/members')
  @HttpCode(200)
  async addMembers(@CurrentUser() user: AuthUser, @Param('roomId', uuid()) roomId: string, @Body() dto: AddMembersDto) {
    const added = await this.chat.addMembers(user, roomId, dto.userIds);
    return { roomId, added };
  }

  @Delete(':roomId/members/:userId')
  @HttpCode(204)
  async removeMember(@CurrentUser() user: AuthUser, @Param('roomId', uuid()) roomId: string, @Param('userId', uuid()) userId: string) {
    await this.chat.removeMember(user, roomId, userId);
  }

  /** Newest first, cursor paged; `?afterSeq=` gives oldest first from that sequence (catch-up). */
  @Get(':roomId/messages')
  history(@CurrentUser() user: AuthUser, @Param('roomId', uuid()) roomId: string, @Query() q: MessagesQueryDto) {
    return this.chat.history(user.id, roomId, q);
  }

  /** 201 with the stored message; a retried clientMessageId returns the original with `Idempotent-Replayed: true`. */
  @Post(':roomId/messages')
  async send(
    @CurrentUser() user: AuthUser,
    @Param('roomId', uuid()) roomId: string,
    @Body() dto: SendMessageBodyDto,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const { message, replayed } = await this.chat.send(user.id, roomId, dto.content, dto.clientMessageId);
    if (replayed) res.header('Idempotent-Replayed', 'true');
    return message;
  }

  @Get(':roomId/users')
  users(@CurrentUser() user: AuthUser, @Param('roomId', uuid()) roomId: string) {
    return this.chat.roomUsers(user.id, roomId);
  }

  /** Only for yourself. */
  @Put(':roomId/users/:userId/typing')
  @HttpCode(204)
  async typing(
    @CurrentUser() user: AuthUser,
    @Param('roomId', uuid()) roomId: string,
    @Param('userId', uuid()) userId: string,
    @Body() dto: TypingDto,
  ) {
    if (userId !== user.id) throw forbidden('You can only set your own typing status');
    await this.chat.setTyping(user.id, roomId, dto.typing);
  }

  /** Marks the room read up to `seq` (default: its last message). */
  @Post(':roomId/read')
  @HttpCode(200)
  markRead(@CurrentUser() user: AuthUser, @Param('roomId', uuid()) roomId: string, @Body() dto: MarkReadDto) {
    return this.chat.markRead(user.id, roomId, dto.seq);
  }
}
