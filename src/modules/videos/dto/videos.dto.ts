import { Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { VideoSourceDto, VideoSourceGql } from '../../media/dto/media.dto';
import { MAX_AD_SECONDS, MAX_ADS, MAX_DURATION_SECONDS, MAX_MILESTONES } from '../video.rules';
import type { AdPosition } from '../watch-credit';

/** Seconds are JSON numbers; the server keeps them to the millisecond. */
const SECONDS = { allowNaN: false, allowInfinity: false };
const URL_OPTS = { protocols: ['http', 'https'], require_protocol: true, require_valid_protocol: true };

// ------------------------------------------------------------------ inputs

@InputType('VideoAdInput')
export class AdInputDto {
  @Field(() => String, { description: 'pre | mid | post' })
  @IsIn(['pre', 'mid', 'post'], { message: 'position must be one of pre, mid, post' })
  position: AdPosition;

  /** Mid-rolls: where the ad plays in the content. Pre-rolls are at 0 and post-rolls at the end. */
  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(SECONDS, { message: 'offsetSeconds must be a number of seconds' })
  @Min(0, { message: 'offsetSeconds must not be negative' })
  offsetSeconds?: number;

  @Field(() => Float)
  @IsNumber(SECONDS, { message: 'durationSeconds must be a number of seconds' })
  @Min(1, { message: `ad durationSeconds must be between 1 and ${MAX_AD_SECONDS}` })
  @Max(MAX_AD_SECONDS, { message: `ad durationSeconds must be between 1 and ${MAX_AD_SECONDS}` })
  durationSeconds: number;

  /** SOFT paid for watching it, a decimal string; defaults to the ad_view rule's amount. */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString({ message: 'reward must be a decimal string (e.g. "0.2")' })
  @MaxLength(64)
  reward?: string;
}

@InputType('VideoMilestoneInput')
export class MilestoneInputDto {
  @Field(() => Int)
  @IsInt({ message: 'percent must be an integer between 1 and 100' })
  @Min(1, { message: 'percent must be an integer between 1 and 100' })
  @Max(100, { message: 'percent must be an integer between 1 and 100' })
  percent: number;

  /** SOFT paid when verified watching reaches it; defaults to the watch_milestone rule's amount. */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString({ message: 'reward must be a decimal string (e.g. "0.5")' })
  @MaxLength(64)
  reward?: string;
}

@InputType('CreateVideoInput')
export class CreateVideoDto {
  /** Required, except for vimeo/youtube/cloudflare_stream sources (read from the provider). */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200, { message: 'title must be 1 to 200 characters' })
  title?: string;

  /** A link the video plays from (an https file or page): short for `source: {provider: "url", url}`. */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @IsUrl(URL_OPTS, { message: 'url must be an http(s) URL' })
  url?: string;

  /** Where the video plays from: url, s3 (an upload's key), cloudflare_stream, vimeo or youtube. */
  @Field(() => VideoSourceDto, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => VideoSourceDto)
  source?: VideoSourceDto;

  /** Required, except for vimeo/youtube/cloudflare_stream sources (read from the provider). */
  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(SECONDS, { message: 'durationSeconds must be a number of seconds' })
  @Min(1, { message: `durationSeconds must be between 1 and ${MAX_DURATION_SECONDS}` })
  @Max(MAX_DURATION_SECONDS, { message: `durationSeconds must be between 1 and ${MAX_DURATION_SECONDS}` })
  durationSeconds?: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @IsUrl(URL_OPTS, { message: 'thumbnailUrl must be an http(s) URL' })
  thumbnailUrl?: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(5000, { message: 'description must be at most 5000 characters' })
  description?: string;

  @Field(() => [AdInputDto], { nullable: true })
  @IsOptional()
  @IsArray({ message: 'ads must be an array' })
  @ArrayMaxSize(MAX_ADS, { message: `at most ${MAX_ADS} ads` })
  @ValidateNested({ each: true })
  @Type(() => AdInputDto)
  ads?: AdInputDto[];

  @Field(() => [MilestoneInputDto], { nullable: true })
  @IsOptional()
  @IsArray({ message: 'milestones must be an array' })
  @ArrayMaxSize(MAX_MILESTONES, { message: `at most ${MAX_MILESTONES} milestones` })
  @ValidateNested({ each: true })
  @Type(() => MilestoneInputDto)
  milestones?: MilestoneInputDto[];
}

@InputType('WatchHeartbeatInput')
export class HeartbeatDto {
  /** The content position (seconds); while an ad plays, where the content is paused. */
  @Field(() => Float)
  @IsNumber(SECONDS, { message: 'positionSeconds must be a number of seconds' })
  @Min(0, { message: 'positionSeconds must not be negative' })
  @Max(MAX_DURATION_SECONDS, { message: `positionSeconds must be at most ${MAX_DURATION_SECONDS}` })
  positionSeconds: number;

  @Field()
  @IsBoolean({ message: 'playing must be true or false' })
  playing: boolean;

  /** The ad playing right now, if any. */
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'adId must be an ad id (UUID)' })
  adId?: string;
}

@InputType('ClaimWatchMilestoneInput')
export class ClaimMilestoneDto {
  @Field(() => ID)
  @IsUUID('all', { message: 'videoId must be a video id (UUID)' })
  videoId: string;

  @Field(() => ID)
  @IsUUID('all', { message: 'sessionId must be a watch session id (UUID)' })
  sessionId: string;

  @Field(() => Int)
  @IsInt({ message: 'percent must be an integer between 1 and 100' })
  @Min(1, { message: 'percent must be an integer between 1 and 100' })
  @Max(100, { message: 'percent must be an integer between 1 and 100' })
  percent: number;
}

@InputType('ClaimAdViewInput')
export class ClaimAdDto {
  @Field(() => ID)
  @IsUUID('all', { message: 'videoId must be a video id (UUID)' })
  videoId: string;

  @Field(() => ID)
  @IsUUID('all', { message: 'sessionId must be a watch session id (UUID)' })
  sessionId: string;

  @Field(() => ID)
  @IsUUID('all', { message: 'adId must be an ad id (UUID)' })
  adId: string;
}

export class ListVideosQueryDto {
  @IsOptional()
  @IsString()
  limit?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @IsOptional()
  @IsUUID('all', { message: 'creatorId must be a user id (UUID)' })
  creatorId?: string;
}

/** Socket payload of `join_video` / `leave_video`. */
export class VideoRefDto {
  @IsUUID('all', { message: 'videoId must be a video id (UUID)' })
  videoId: string;
}

// ------------------------------------------------------------------ GraphQL views

@ObjectType('VideoAd')
export class VideoAdGql {
  @Field(() => ID) id: string;
  @Field() position: string;
  @Field(() => Float) offsetSeconds: number;
  @Field(() => Float) durationSeconds: number;
  @Field() reward: string;
}

@ObjectType('VideoMilestone')
export class VideoMilestoneGql {
  @Field(() => Int) percent: number;
  @Field() reward: string;
}

@ObjectType('Video')
export class VideoGql {
  @Field(() => ID) id: string;
  @Field(() => ID) creatorId: string;
  @Field() creatorUsername: string;
  @Field() title: string;
  @Field(() => String, { nullable: true }) description: string | null;
  @Field() url: string;
  @Field(() => VideoSourceGql) source: VideoSourceGql;
  @Field(() => String, { nullable: true }) thumbnailUrl: string | null;
  @Field(() => Float) durationSeconds: number;
  @Field(() => Int) viewerCount: number;
  @Field(() => [VideoAdGql]) ads: VideoAdGql[];
  @Field(() => [VideoMilestoneGql]) milestones: VideoMilestoneGql[];
  @Field() createdAt: string;
}

@ObjectType('VideoPage')
export class VideoPageGql {
  @Field(() => [VideoGql]) items: VideoGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('WatchSessionStart')
export class WatchSessionStartGql {
  @Field(() => ID) sessionId: string;
  @Field(() => ID) videoId: string;
  @Field() startedAt: string;
  @Field(() => Float) minHeartbeatIntervalSeconds: number;
  @Field(() => Float) heartbeatIntervalSeconds: number;
}

@ObjectType('WatchAdProgress')
export class WatchAdProgressGql {
  @Field(() => ID) adId: string;
  @Field() position: string;
  @Field() reached: boolean;
  @Field(() => Float) watchedSeconds: number;
  @Field(() => Float) durationSeconds: number;
  @Field() completed: boolean;
}

@ObjectType('WatchProgress')
export class WatchProgressGql {
  @Field(() => ID) sessionId: string;
  @Field(() => ID) videoId: string;
  @Field() status: string;
  @Field(() => Float) positionSeconds: number;
  @Field(() => Float) durationSeconds: number;
  @Field(() => Float, { description: 'Verified content seconds of this session' }) watchedSeconds: number;
  @Field(() => Float, { description: 'Verified seconds credited by this heartbeat' }) creditedSeconds: number;
  @Field(() => Float) percentWatched: number;
  @Field() completed: boolean;
  @Field(() => [Int], { description: 'Milestones this session has earned (claim each with claimWatchMilestone)' }) milestonesReached: number[];
  @Field(() => [WatchAdProgressGql]) ads: WatchAdProgressGql[];
  @Field(() => Int) heartbeats: number;
  @Field(() => Int) seeks: number;
}

@ObjectType('VideoRetentionPoint')
export class RetentionPointGql {
  @Field(() => Int, { description: 'Start of a 5 % slice of the video' }) percent: number;
  @Field(() => Int) viewers: number;
  @Field(() => Float, { description: 'Share of views that played this slice (0..1)' }) rate: number;
}

@ObjectType('VideoAdStats')
export class AdStatsGql {
  @Field(() => ID) adId: string;
  @Field() position: string;
  @Field(() => Int) impressions: number;
  @Field(() => Int) completions: number;
}

@ObjectType('VideoAnalytics')
export class VideoAnalyticsGql {
  @Field(() => ID) videoId: string;
  @Field(() => Int) views: number;
  @Field(() => Int) uniqueViewers: number;
  @Field(() => Float) totalWatchSeconds: number;
  @Field(() => Float) averageWatchSeconds: number;
  @Field(() => Float) completionRate: number;
  @Field(() => [RetentionPointGql]) retention: RetentionPointGql[];
  @Field(() => Int) adImpressions: number;
  @Field(() => Int) adCompletions: number;
  @Field(() => [AdStatsGql]) ads: AdStatsGql[];
  @Field() rewardsPaid: string;
  @Field(() => Int) rewardsPaidCount: number;
  @Field(() => Int) liveViewers: number;
}

@ObjectType('ViewerCount')
export class ViewerCountGql {
  @Field(() => ID) videoId: string;
  @Field(() => Int) count: number;
}
