import { Args, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { ParseUUIDPipe } from '@nestjs/common';
import { CurrentUser } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { badRequest } from '../../core/http/domain-error';
import { PresenceType } from './dto/presence.dto';
import { isPresenceStatus } from './presence.rules';
import { presenceTopic } from './presence.events';
import { PresenceService } from './presence.service';

@Resolver()
export class PresenceResolver {
  constructor(
    private readonly presenceService: PresenceService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Query(() => PresenceType)
  presence(@Args('userId', { type: () => ID }, new ParseUUIDPipe()) userId: string) {
    return this.presenceService.get(userId);
  }

  @Mutation(() => PresenceType)
  updatePresence(@CurrentUser() user: AuthUser, @Args('status') status: string) {
    if (!isPresenceStatus(status)) throw badRequest(['status must be one of online, away, busy, offline']);
    return this.presenceService.setStatus(user.id, status);
  }

  /** Presence changes of the users the caller shares a room with. */
  @Subscription(() => PresenceType, { resolve: (p: { presenceChanged: PresenceType }) => p.presenceChanged })
  presenceChanged(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(presenceTopic(user.id));
  }
}
