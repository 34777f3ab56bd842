import { ArgsType, Field, ID, InputType } from '@nestjs/graphql';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsObject, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import { PageQueryDto } from '../../chat/dto/chat.dto';
import { MAX_BODY, MAX_TITLE, TYPE_PATTERN } from '../notification.rules';
import { NotificationDataScalar } from './notifications.types';

const bool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' || value === '' ? false : value;

@ArgsType()
export class ListNotificationsQueryDto extends PageQueryDto {
  @Field({ nullable: true })
  @IsOptional()
  @Transform(bool)
  @IsBoolean({ message: 'unreadOnly must be true or false' })
  unreadOnly?: boolean;
}

@InputType('SendNotificationInput')
export class SendNotificationDto {
  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsUUID('all', { each: true, message: 'userIds must contain user ids (UUIDs)' })
  userIds?: string[];

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  broadcast?: boolean;

  @Field()
  @IsString()
  @Matches(TYPE_PATTERN, { message: 'type must be a short lower-case word (letters, digits, . _ -), e.g. "announcement"' })
  type: string;

  @Field()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TITLE)
  title: string;

  @Field()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_BODY)
  body: string;

  @Field(() => NotificationDataScalar, { nullable: true })
  @IsOptional()
  @IsObject({ message: 'data must be a JSON object' })
  data?: Record<string, unknown>;
}

export class MarkNotificationReadDto {
  @IsUUID('all', { message: 'notificationId must be a UUID' })
  notificationId: string;
}
