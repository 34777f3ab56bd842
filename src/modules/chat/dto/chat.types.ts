import { Field, ID, Int, ObjectType } from '@nestjs/graphql';

/* GraphQL views: separate from the TypeORM entities on purpose. */

@ObjectType('ChatMessage')
export class ChatMessageType {
  @Field(() => ID) id: string;
  @Field(() => ID) roomId: string;
  @Field(() => Int, { description: 'Per-room sequence number: gapless and increasing' }) seq: number;
  @Field(() => ID, { nullable: true }) senderId: string | null;
  @Field(() => String, { nullable: true }) senderUsername: string | null;
  @Field() content: string;
  @Field(() => String, { nullable: true }) clientMessageId: string | null;
  @Field() createdAt: string;
}

@ObjectType('PublicChatRoom', { description: 'A public room as everyone sees it in the public list' })
export class PublicChatRoomType {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field(() => Int) memberCount: number;
}

@ObjectType('ChatRoom')
export class ChatRoomType {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field() isPrivate: boolean;
  @Field(() => ID, { nullable: true }) createdBy: string | null;
  @Field() createdAt: string;
  @Field(() => Int) lastSeq: number;
  @Field(() => String, { nullable: true }) lastMessageAt: string | null;
  @Field(() => Int) memberCount: number;
  @Field(() => String, { nullable: true, description: 'owner | member; null when the caller is not a member' }) role: string | null;
  @Field(() => Int, { nullable: true }) lastReadSeq: number | null;
  @Field(() => Int, { nullable: true }) unreadCount: number | null;
}

@ObjectType('ChatRoomPage')
export class ChatRoomPageType {
  @Field(() => [ChatRoomType]) items: ChatRoomType[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('ChatMessagePage')
export class ChatMessagePageType {
  @Field(() => [ChatMessageType]) items: ChatMessageType[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('ChatRoomUser')
export class ChatRoomUserType {
  @Field(() => ID) userId: string;
  @Field() username: string;
  @Field() online: boolean;
  @Field({ description: 'online | away | busy | offline' }) status: string;
  @Field() typing: boolean;
  @Field(() => String, { nullable: true }) lastSeenAt: string | null;
  @Field() role: string;
  @Field() joinedAt: string;
}

@ObjectType('ChatTyping')
export class ChatTypingType {
  @Field(() => ID) roomId: string;
  @Field(() => ID) userId: string;
  @Field() typing: boolean;
}

@ObjectType('ChatReadState')
export class ChatReadStateType {
  @Field(() => ID) roomId: string;
  @Field(() => Int) lastReadSeq: number;
  @Field(() => Int) lastSeq: number;
  @Field(() => Int) unreadCount: number;
}
