import { ArgsType, Field, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { MAX_LIMIT } from '../../../core/http/pagination';
import { CLIENT_MESSAGE_ID, MAX_CONTENT_LENGTH } from '../chat.rules';

const CLIENT_ID_MESSAGE = { message: 'clientMessageId must be 1 to 64 letters, digits or . _ : -' };

@InputType('CreateChatRoomInput')
export class CreateRoomDto {
  @Field()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  isPrivate?: boolean;

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsUUID('all', { each: true, message: 'memberIds must contain user ids (UUIDs)' })
  memberIds?: string[];
}

@InputType('SendChatMessageInput')
export class SendMessageBodyDto {
  @Field()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CONTENT_LENGTH)
  content: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @Matches(CLIENT_MESSAGE_ID, CLIENT_ID_MESSAGE)
  clientMessageId?: string;
}

export class TypingDto {
  @IsBoolean()
  typing: boolean;
}

export class AddMembersDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @IsUUID('all', { each: true, message: 'userIds must contain user ids (UUIDs)' })
  userIds: string[];
}

export class MarkReadDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  seq?: number;
}

@ArgsType()
export class PageQueryDto {
  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

@ArgsType()
export class MessagesQueryDto extends PageQueryDto {
  @Field(() => Int, { nullable: true, description: 'Oldest first, starting after this sequence (catch-up).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'afterSeq must be an integer' })
  @Min(0)
  afterSeq?: number;
}

@ArgsType()
export class ChatMessagesArgs extends MessagesQueryDto {
  @Field(() => ID)
  @IsUUID('all', { message: 'roomId must be a UUID' })
  roomId: string;
}

// ---- Socket.IO payloads (CONTRACT §4: objects)

export class RoomRefDto {
  @IsUUID('all', { message: 'roomId must be a UUID' })
  roomId: string;
}

export class JoinRoomDto extends RoomRefDto {
  /** The last sequence this client saw: the ack carries everything after it, in order. */
  @IsOptional()
  @IsInt({ message: 'lastSeq must be an integer' })
  @Min(0)
  lastSeq?: number;
}

export class SendMessageDto extends RoomRefDto {
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CONTENT_LENGTH)
  content: string;

  @IsOptional()
  @IsString()
  @Matches(CLIENT_MESSAGE_ID, CLIENT_ID_MESSAGE)
  clientMessageId?: string;
}

export class MarkRoomReadDto extends RoomRefDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  seq?: number;
}
