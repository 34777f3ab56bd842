import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Allow, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { ASSET_SYMBOLS } from '../../ledger/assets';
import { METRICS, TOP_BY } from '../creator.rules';

const ASSET_MSG = { message: `asset must be one of ${ASSET_SYMBOLS.join(', ')}` };

// ------------------------------------------------------------------ inputs

@InputType('TipInput')
export class TipDto {
  @Field()
  @IsIn(ASSET_SYMBOLS as unknown as string[], ASSET_MSG)
  asset: string;

  /** Gross: what the fan pays; the fee is taken from it. */
  @Field()
  @IsString({ message: 'amount must be a decimal string (e.g. "1.50")' })
  @MaxLength(128, { message: 'amount must be a decimal string (e.g. "1.50")' })
  amount: string;

  /** At most 280 characters (checked in creator.rules.ts; this bound only caps the payload). */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString({ message: 'message must be a string' })
  @MaxLength(2000, { message: 'message must be at most 280 characters' })
  message?: string | null;

  /** The video the tip is for (one of the creator's). */
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'videoId must be a video id (UUID)' })
  videoId?: string | null;
}

@InputType('CreatorMilestoneInput')
export class MilestoneDto {
  @Field()
  @IsIn(METRICS as unknown as string[], { message: `metric must be one of ${METRICS.join(', ')}` })
  metric: string;

  /** A whole number of followers or views, hours (up to 2 decimals), or an amount of `asset`. */
  @Field()
  @Allow()
  target: string;

  /** Earnings milestones only (default USD). */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsIn(ASSET_SYMBOLS as unknown as string[], ASSET_MSG)
  asset?: string | null;
}

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true })
  @IsOptional()
  limit?: number | string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(500, { message: 'cursor is invalid' })
  cursor?: string;
}

@ArgsType()
export class TopContentArgs {
  @Field(() => String, { nullable: true, description: 'views (default), watchTime or tips (number of tips)' })
  @IsOptional()
  @IsIn(TOP_BY as unknown as string[], { message: `by must be one of ${TOP_BY.join(', ')}` })
  by?: string;

  @Field(() => Int, { nullable: true, description: '1 to 50, default 10' })
  @IsOptional()
  limit?: number | string;
}

// ------------------------------------------------------------------ GraphQL output types

@ObjectType('CreatorCard')
export class CreatorCardGql {
  @Field(() => ID) creatorId: string;
  @Field() username: string;
  @Field(() => Int) followers: number;
  @Field({ description: 'The caller follows this creator' }) following: boolean;
}

@ObjectType('CreatorPage')
export class CreatorPageGql {
  @Field(() => [CreatorCardGql]) items: CreatorCardGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('CreatorAssetAmount')
export class AssetAmountGql {
  @Field() asset: string;
  @Field() amount: string;
}

@ObjectType('Tip')
export class TipGql {
  @Field(() => ID) id: string;
  @Field(() => ID) creatorId: string;
  @Field(() => ID) fromUserId: string;
  @Field() fromUsername: string;
  @Field() asset: string;
  @Field({ description: 'Gross: what the fan gave' }) amount: string;
  @Field({ description: "The platform's fee, taken from the amount" }) fee: string;
  @Field({ description: 'What reached the creator (amount - fee)' }) net: string;
  @Field(() => String, { nullable: true }) message: string | null;
  @Field(() => ID, { nullable: true }) videoId: string | null;
  @Field() createdAt: string;
}

@ObjectType('TipPage')
export class TipPageGql {
  @Field(() => [TipGql]) items: TipGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('CreatorDayPoint')
export class DayPointGql {
  @Field({ description: 'YYYY-MM-DD (UTC)' }) date: string;
  @Field(() => Int, { description: 'Followers at the end of the day' }) followers: number;
  @Field(() => Int) newFollowers: number;
  @Field(() => Int) views: number;
  @Field(() => Float) watchSeconds: number;
  @Field(() => Int) tipsCount: number;
  @Field(() => [AssetAmountGql], { description: 'Tips net of fees' }) earnings: AssetAmountGql[];
}

@ObjectType('Milestone')
export class MilestoneGql {
  @Field(() => ID) id: string;
  @Field({ description: 'followers, views, watch_hours or earnings' }) metric: string;
  @Field(() => String, { nullable: true, description: 'The asset of an earnings milestone' }) asset: string | null;
  @Field() target: string;
  @Field() current: string;
  @Field(() => Float, { description: '0..1' }) progress: number;
  @Field(() => String, { nullable: true }) achievedAt: string | null;
  @Field(() => String, { nullable: true, description: "When it will be reached at the last 7 days' rate" }) estimatedAt: string | null;
  @Field() custom: boolean;
}

@ObjectType('CreatorStats')
export class CreatorStatsGql {
  @Field(() => ID) creatorId: string;
  @Field(() => Int) followers: number;
  @Field(() => Int) totalViews: number;
  @Field(() => Float) totalWatchSeconds: number;
  @Field(() => [AssetAmountGql], { description: 'Tips net of fees, per asset' }) earnings: AssetAmountGql[];
  @Field(() => Int) tipsCount: number;
  @Field(() => Int) videosCount: number;
  @Field(() => [DayPointGql], { description: 'The last 30 days, oldest first' }) series: DayPointGql[];
  @Field(() => [MilestoneGql]) milestones: MilestoneGql[];
  @Field() updatedAt: string;
}

@ObjectType('CreatorTopContent')
export class TopContentGql {
  @Field(() => ID) videoId: string;
  @Field() title: string;
  @Field(() => String, { nullable: true }) thumbnailUrl: string | null;
  @Field(() => Int) views: number;
  @Field(() => Float) watchSeconds: number;
  @Field(() => Int) tipsCount: number;
  @Field(() => [AssetAmountGql], { description: 'Tips given for the video (gross), per asset' }) tips: AssetAmountGql[];
}
