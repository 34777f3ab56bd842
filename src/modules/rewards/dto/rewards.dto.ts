import { Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { ACTION_PATTERN, TARGET_PATTERN } from '../rewards.rules';

// ------------------------------------------------------------------ inputs

@InputType('TriggerRewardInput')
export class TriggerRewardDto {
  @Field()
  @IsString({ message: 'action must be a string' })
  @Matches(ACTION_PATTERN, { message: 'action must be a reward action such as "like" (see GET /api/rewards/rules)' })
  action: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString({ message: 'targetId must be a string' })
  @Matches(TARGET_PATTERN, { message: 'targetId must be 1 to 200 printable characters without spaces' })
  targetId?: string;
}

@InputType('UpdateRewardRuleInput')
export class UpdateRewardRuleDto {
  /** SOFT per reward, a decimal string with at most 8 decimals. */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString({ message: 'amount must be a decimal string (e.g. "0.5")' })
  @MaxLength(64)
  amount?: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt({ message: 'dailyCap must be an integer' })
  @Min(0, { message: 'dailyCap must be between 0 and 1000000' })
  @Max(1_000_000, { message: 'dailyCap must be between 0 and 1000000' })
  dailyCap?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt({ message: 'cooldownSeconds must be an integer' })
  @Min(0, { message: 'cooldownSeconds must be between 0 and 31536000' })
  @Max(31_536_000, { message: 'cooldownSeconds must be between 0 and 31536000' })
  cooldownSeconds?: number;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(200, { message: 'description must be at most 200 characters' })
  description?: string;
}

@InputType('FundRewardsPoolInput')
export class FundPoolDto {
  @Field()
  @IsString({ message: 'amount must be a decimal string (e.g. "1000")' })
  @MaxLength(64)
  amount: string;

  /** An external reference (budget line, treasury order): one funding per reference. */
  @Field()
  @IsString()
  @Length(1, 200, { message: 'reference must be 1 to 200 characters' })
  reference: string;
}

export class AnalyticsQueryDto {
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,2}$/, { message: 'days must be an integer between 1 and 90' })
  days?: string;
}

export class HistoryQueryDto {
  @IsOptional()
  @IsString()
  limit?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

// ------------------------------------------------------------------ GraphQL views

@ObjectType('RewardRule')
export class RewardRuleGql {
  @Field() action: string;
  @Field() description: string;
  @Field({ description: 'SOFT per reward (the video sets it for watch milestones and ad views)' }) amount: string;
  @Field() asset: string;
  @Field(() => Int, { description: 'Rewards per user per UTC day' }) dailyCap: number;
  @Field(() => Int) cooldownSeconds: number;
  @Field() enabled: boolean;
  @Field({ description: '"client": POST /api/rewards/trigger; "server": granted by verified flows only' }) grantedBy: string;
  @Field() targetRequired: boolean;
  @Field() updatedAt: string;
}

@ObjectType('Reward')
export class RewardGql {
  @Field(() => ID) id: string;
  @Field() action: string;
  @Field(() => String, { nullable: true }) targetId: string | null;
  @Field() amount: string;
  @Field() asset: string;
  @Field({ description: 'queued (will be paid) or paid' }) status: string;
  @Field() createdAt: string;
  @Field(() => String, { nullable: true }) paidAt: string | null;
}

@ObjectType('RewardTriggerResult')
export class TriggerResultGql {
  @Field(() => ID, { nullable: true }) rewardId: string | null;
  @Field({ description: 'queued | duplicate | capped | cooldown | disabled' }) status: string;
  @Field() amount: string;
  @Field(() => String, { nullable: true }) reason?: string;
  @Field(() => Int, { nullable: true }) retryAfterSeconds?: number;
}

@ObjectType('RewardActionTotal')
export class ActionTotalGql {
  @Field() action: string;
  @Field(() => Int) count: number;
  @Field() amount: string;
}

@ObjectType('RewardSummary')
export class RewardSummaryGql {
  @Field(() => ID) userId: string;
  @Field() asset: string;
  @Field({ description: 'SOFT wallet balance' }) balance: string;
  @Field() totalEarned: string;
  @Field() todayEarned: string;
  @Field({ description: 'Granted, not yet paid' }) pending: string;
  @Field(() => [ActionTotalGql]) byAction: ActionTotalGql[];
  @Field(() => [RewardGql]) recent: RewardGql[];
}

@ObjectType('RewardDailyTotal')
export class DailyTotalGql {
  @Field() day: string;
  @Field() action: string;
  @Field(() => Int) count: number;
  @Field() amount: string;
}

@ObjectType('RewardTopEarner')
export class TopEarnerGql {
  @Field(() => ID) userId: string;
  @Field() username: string;
  @Field(() => Int) count: number;
  @Field() amount: string;
}

@ObjectType('RewardsPool')
export class PoolGql {
  @Field() asset: string;
  @Field() balance: string;
  @Field({ description: 'Minted into the pool, all time' }) funded: string;
  @Field({ description: 'Paid out as rewards, all time' }) paidOut: string;
  @Field(() => Int) queuedCount: number;
  @Field() queuedAmount: string;
  @Field({ description: 'Average SOFT paid per day over the analytics window' }) burnRatePerDay: string;
  @Field(() => Float, { nullable: true, description: 'Days the balance lasts at the burn rate' }) runwayDays: number | null;
}

@ObjectType('RewardTotals')
export class RewardTotalsGql {
  @Field(() => Int) count: number;
  @Field() amount: string;
  @Field(() => Int) users: number;
}

@ObjectType('RewardAnalytics')
export class RewardAnalyticsGql {
  @Field() from: string;
  @Field() to: string;
  @Field(() => Int) days: number;
  @Field(() => RewardTotalsGql) totals: RewardTotalsGql;
  @Field(() => [ActionTotalGql]) byAction: ActionTotalGql[];
  @Field(() => [DailyTotalGql]) daily: DailyTotalGql[];
  @Field(() => [TopEarnerGql]) topEarners: TopEarnerGql[];
  @Field(() => PoolGql) pool: PoolGql;
}

/** `PATCH /api/admin/rewards/creator-budget`: the default daily budget, or one creator's. */
export class CreatorBudgetDto {
  @IsString({ message: 'amount must be a decimal string (e.g. "1000")' })
  @MaxLength(64)
  amount: string;

  @IsOptional()
  @IsUUID('all', { message: 'creatorId must be a UUID' })
  creatorId?: string;
}

export class CreatorBudgetQueryDto {
  @IsOptional()
  @IsUUID('all', { message: 'creatorId must be a UUID' })
  creatorId?: string;
}
