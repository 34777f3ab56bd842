import { Args, ID, Int, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser, Public, Roles } from '../../core/auth/decorators';
import { assertSelfOrAdmin } from '../../core/auth/ownership';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import {
  RewardAnalyticsGql,
  RewardGql,
  RewardRuleGql,
  RewardSummaryGql,
  TriggerRewardDto,
  TriggerResultGql,
  UpdateRewardRuleDto,
} from './dto/rewards.dto';
import { rewardTopic } from './rewards.events';
import { RewardRules } from './reward-rules.service';
import { RewardsService, RewardView } from './rewards.service';

@Resolver()
export class RewardsResolver {
  constructor(
    private readonly rewards: RewardsService,
    private readonly ruleBook: RewardRules,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Public()
  @Query(() => [RewardRuleGql])
  rewardRules() {
    return this.ruleBook.list();
  }

  @Query(() => RewardSummaryGql, { description: "A user's reward data (your own unless you are an admin)" })
  rewardSummary(@CurrentUser() user: AuthUser, @Args('userId', { type: () => ID, nullable: true }) userId?: string) {
    const id = userId ?? user.id;
    assertSelfOrAdmin(user, id);
    return this.rewards.summary(id);
  }

  @Roles('admin')
  @Query(() => RewardAnalyticsGql)
  rewardAnalytics(@Args('days', { type: () => Int, nullable: true }) days?: number) {
    return this.rewards.analytics(days === undefined || days === null ? undefined : String(days));
  }

  @Mutation(() => TriggerResultGql)
  triggerReward(@CurrentUser() user: AuthUser, @Args('input') input: TriggerRewardDto) {
    return this.rewards.trigger(user.id, input);
  }

  @Roles('admin')
  @Mutation(() => RewardRuleGql)
  updateRewardRule(@CurrentUser() admin: AuthUser, @Args('action') action: string, @Args('input') input: UpdateRewardRuleDto) {
    return this.ruleBook.update(admin.id, action, input);
  }

  /** Your rewards, as they are paid. */
  @Subscription(() => RewardGql, { resolve: (p: { rewardEarned: RewardView }) => p.rewardEarned })
  rewardEarned(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(rewardTopic(user.id));
  }
}
