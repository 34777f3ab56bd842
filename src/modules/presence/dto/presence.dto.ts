import { Field, ObjectType } from '@nestjs/graphql';
import { IsIn } from 'class-validator';
import { PRESENCE_STATUSES, PresenceStatus } from '../presence.rules';

export class UpdatePresenceDto {
  @IsIn(PRESENCE_STATUSES as unknown as string[], { message: 'status must be one of online, away, busy, offline' })
  status: PresenceStatus;
}

@ObjectType('Presence')
export class PresenceType {
  @Field() userId: string;
  @Field({ description: 'online | away | busy | offline' }) status: string;
  @Field(() => String, { nullable: true }) lastSeenAt: string | null;
}
