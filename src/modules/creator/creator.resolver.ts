import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Int, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser, Public } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { badRequest } from '../../core/http/domain-error';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { statsTopic, tipsTopic } from './creator.events';
import type { CreatorStats, TipView } from './creator.views';
import {
  CreatorCardGql,
  CreatorPageGql,
  CreatorStatsGql,
  MilestoneDto,
  MilestoneGql,
  PageArgs,
  TipDto,
  TipGql,
  TipPageGql,
  TopContentArgs,
  TopContentGql,
} from './dto/creator.dto';
import { FollowsService } from './follows.service';
import { MilestonesService } from './milestones.service';
import { StatsService } from './stats.service';
import { TipsService } from './tips.service';

const CreatorId = () => Args('creatorId', { type: () => ID }, new ParseUUIDPipe());
const KEY_RE = /^[A-Za-z0-9._:-]{1,255}$/;

function key(k: string | null | undefined): string | undefined {
  if (k === undefined || k === null || k === '') return undefined;
  if (!KEY_RE.test(k)) throw badRequest('idempotencyKey must be 1-255 characters of letters, digits and ._:-');
  return k;
}

/** The creator economy over GraphQL: the same services and rules as REST. */
@Resolver()
export class CreatorResolver {
  constructor(
    private readonly follows: FollowsService,
    private readonly tips: TipsService,
    private readonly stats: StatsService,
    private readonly milestones: MilestonesService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Query(() => CreatorPageGql, { description: 'Creators, most followed first' })
  creators(@CurrentUser() user: AuthUser, @Args() q: PageArgs) {
    return this.follows.list(user, q);
  }

  @Query(() => CreatorCardGql)
  creatorProfile(@CurrentUser() user: AuthUser, @CreatorId() creatorId: string) {
    return this.follows.profile(user, creatorId);
  }

  @Query(() => CreatorStatsGql, { description: 'The creator and admins only' })
  creatorStats(@CurrentUser() user: AuthUser, @CreatorId() creatorId: string) {
    return this.stats.stats(user, creatorId);
  }

  @Query(() => TipPageGql, { description: 'Tips received, newest first (the creator and admins only)' })
  creatorTips(
    @CurrentUser() user: AuthUser,
    @CreatorId() creatorId: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
    @Args('cursor', { type: () => String, nullable: true }) cursor?: string,
  ) {
    return this.tips.list(user, creatorId, { limit: limit ?? undefined, cursor: cursor ?? undefined });
  }

  @Query(() => [MilestoneGql], { description: 'The creator and admins only' })
  creatorMilestones(@CurrentUser() user: AuthUser, @CreatorId() creatorId: string) {
    return this.stats.milestones(user, creatorId);
  }

  @Public()
  @Query(() => [TopContentGql], { description: "A creator's videos ranked by views (default), watchTime or tips; public" })
  creatorTopContent(
    @CreatorId() creatorId: string,
    @Args('by', { type: () => String, nullable: true }) by?: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
  ) {
    return this.stats.topContent(creatorId, { by: by ?? undefined, limit: limit ?? undefined } satisfies TopContentArgs);
  }

  @Mutation(() => TipGql, { description: 'Tips a creator (moves money; pass idempotencyKey to make a retry safe)' })
  tipCreator(@CurrentUser() user: AuthUser, @CreatorId() creatorId: string, @Args('input') input: TipDto, @Args('idempotencyKey', { type: () => String, nullable: true }) idempotencyKey?: string) {
    return this.tips.tip(user, creatorId, input, key(idempotencyKey));
  }

  @Mutation(() => CreatorCardGql)
  followCreator(@CurrentUser() user: AuthUser, @CreatorId() creatorId: string) {
    return this.follows.follow(user, creatorId);
  }

  @Mutation(() => CreatorCardGql)
  unfollowCreator(@CurrentUser() user: AuthUser, @CreatorId() creatorId: string) {
    return this.follows.unfollow(user, creatorId);
  }

  @Mutation(() => MilestoneGql, { description: 'Adds a target to your milestones' })
  createCreatorMilestone(@CurrentUser() user: AuthUser, @CreatorId() creatorId: string, @Args('input') input: MilestoneDto) {
    return this.milestones.create(user, creatorId, input);
  }

  /** Live stats of one creator (throttled to about one payload a second); the creator and admins only. */
  @Subscription(() => CreatorStatsGql, { resolve: (p: { creatorStatsUpdated: CreatorStats }) => p.creatorStatsUpdated })
  async creatorStatsUpdated(@CurrentUser() user: AuthUser, @CreatorId() creatorId: string) {
    await this.stats.assertReadable(user, creatorId);
    return this.pubsub.iterator(statsTopic(creatorId));
  }

  /** Tips to the signed-in user, as they arrive. */
  @Subscription(() => TipGql, { resolve: (p: { tipReceived: TipView }) => p.tipReceived })
  tipReceived(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(tipsTopic(user.id));
  }
}
