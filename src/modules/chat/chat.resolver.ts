import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Int, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { SharedSubscription } from '../../core/graphql/shared-execution';
import { ChatService } from './chat.service';
import type { MessageView } from './chat.views';
import { isLeftSignal, leftTopic, messageTopic, PUBLIC_ROOMS_TOPIC, typingTopic } from './chat.events';
import { guardIterator } from './guard-iterator';
import { ChatMessagesArgs, CreateRoomDto, PageQueryDto, SendMessageBodyDto } from './dto/chat.dto';
import {
  ChatMessagePageType,
  ChatMessageType,
  ChatReadStateType,
  ChatRoomPageType,
  ChatRoomType,
  ChatRoomUserType,
  ChatTypingType,
  PublicChatRoomType,
} from './dto/chat.types';
import type { PublicRoomSummary, TypingEvent } from './chat.events';

type MessagePayload = { messageAdded?: MessageView; messagesAdded?: MessageView[] };

/**
 * One `{ messageAdded }` wrapper per message of a published batch, the same objects for every
 * subscriber on this instance: shared subscription execution (core/graphql/shared-execution.ts)
 * recognises an event by its object, so all subscribers of a room share one execution per message.
 */
const wrappers = new WeakMap<MessagePayload, MessagePayload[]>();
function expandBatch(p: MessagePayload): MessagePayload[] | null {
  if (!p.messagesAdded) return null;
  let out = wrappers.get(p);
  if (!out) wrappers.set(p, (out = p.messagesAdded.map((m) => ({ messageAdded: m }))));
  return out;
}

const RoomId = () => Args('roomId', { type: () => ID }, new ParseUUIDPipe());

@Resolver()
export class ChatResolver {
  constructor(
    private readonly chat: ChatService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Query(() => ChatRoomPageType, { description: 'My rooms, most recently joined first, with unread counts' })
  chatRooms(@CurrentUser() user: AuthUser, @Args() q: PageQueryDto) {
    return this.chat.myRooms(user.id, q.limit, q.cursor);
  }

  @Query(() => ChatRoomPageType)
  publicChatRooms(@CurrentUser() user: AuthUser, @Args() q: PageQueryDto) {
    return this.chat.publicRooms(user.id, q.limit, q.cursor);
  }

  @Query(() => ChatRoomType)
  chatRoom(@CurrentUser() user: AuthUser, @RoomId() roomId: string) {
    return this.chat.getRoom(user.id, roomId);
  }

  @Query(() => ChatMessagePageType, { description: 'Newest first; with afterSeq, oldest first from that sequence' })
  chatMessages(@CurrentUser() user: AuthUser, @Args() q: ChatMessagesArgs) {
    return this.chat.history(user.id, q.roomId, q);
  }

  @Query(() => [ChatRoomUserType])
  chatRoomUsers(@CurrentUser() user: AuthUser, @RoomId() roomId: string) {
    return this.chat.roomUsers(user.id, roomId);
  }

  @Mutation(() => ChatRoomType)
  createChatRoom(@CurrentUser() user: AuthUser, @Args('input') input: CreateRoomDto) {
    return this.chat.createRoom(user.id, input);
  }

  @Mutation(() => ChatRoomType)
  async joinChatRoom(@CurrentUser() user: AuthUser, @RoomId() roomId: string) {
    return (await this.chat.join(user.id, roomId)).room;
  }

  @Mutation(() => Boolean)
  async leaveChatRoom(@CurrentUser() user: AuthUser, @RoomId() roomId: string) {
    await this.chat.leave(user.id, roomId);
    return true;
  }

  @Mutation(() => ChatMessageType)
  async sendChatMessage(@CurrentUser() user: AuthUser, @RoomId() roomId: string, @Args('input') input: SendMessageBodyDto) {
    return (await this.chat.send(user.id, roomId, input.content, input.clientMessageId)).message;
  }

  @Mutation(() => Boolean)
  async setChatTyping(@CurrentUser() user: AuthUser, @RoomId() roomId: string, @Args('typing') typing: boolean) {
    await this.chat.setTyping(user.id, roomId, typing);
    return true;
  }

  @Mutation(() => ChatReadStateType)
  markChatRoomRead(
    @CurrentUser() user: AuthUser,
    @RoomId() roomId: string,
    @Args('seq', { type: () => Int, nullable: true }) seq?: number,
  ) {
    return this.chat.markRead(user.id, roomId, seq ?? undefined);
  }

  /** Messages of a room the caller is a member of; ends when the caller leaves the room. */
  @SharedSubscription()
  @Subscription(() => ChatMessageType, { resolve: (p: { messageAdded: MessageView }) => p.messageAdded })
  async messageAdded(@CurrentUser() user: AuthUser, @RoomId() roomId: string) {
    await this.chat.assertMember(user.id, roomId);
    return guardIterator(this.pubsub.iterator<MessagePayload>([messageTopic(roomId), leftTopic(roomId, user.id)]), {
      endWhen: isLeftSignal,
      // Messages are published per batch (group commit); subscribers get them one by one.
      expand: expandBatch,
    });
  }

  /** Public rooms created, or whose member count changed: the public list, live. */
  @SharedSubscription() // the public list is the same for every signed-in viewer
  @Subscription(() => PublicChatRoomType, {
    description: 'Public rooms created, or whose member count changed',
    resolve: (p: { publicRoomChanged: PublicRoomSummary }) => p.publicRoomChanged,
  })
  publicRoomChanged() {
    return this.pubsub.iterator(PUBLIC_ROOMS_TOPIC);
  }

  /** Others starting and stopping typing in a room the caller is a member of. */
  @SharedSubscription()
  @Subscription(() => ChatTypingType, { resolve: (p: { typingChanged: TypingEvent }) => p.typingChanged })
  async typingChanged(@CurrentUser() user: AuthUser, @RoomId() roomId: string) {
    await this.chat.assertMember(user.id, roomId);
    return guardIterator(this.pubsub.iterator<{ typingChanged?: TypingEvent }>([typingTopic(roomId), leftTopic(roomId, user.id)]), {
      endWhen: isLeftSignal,
      filter: (p) => p.typingChanged?.userId !== user.id,
    });
  }
}
