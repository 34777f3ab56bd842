import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Int, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser, Public, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { SharedSubscription } from '../../core/graphql/shared-execution';
import { PlaybackGql } from '../media/dto/media.dto';
import { TriggerResultGql } from '../rewards/dto/rewards.dto';
import {
  ClaimAdDto,
  ClaimMilestoneDto,
  CreateVideoDto,
  HeartbeatDto,
  VideoAnalyticsGql,
  VideoGql,
  VideoPageGql,
  ViewerCountGql,
  WatchProgressGql,
  WatchSessionStartGql,
} from './dto/videos.dto';
import { viewerCountTopic } from './videos.events';
import { VideosService } from './videos.service';
import { WatchService } from './watch.service';

const VideoId = () => Args('videoId', { type: () => ID }, new ParseUUIDPipe());
const SessionId = () => Args('sessionId', { type: () => ID }, new ParseUUIDPipe());

@Resolver()
export class VideosResolver {
  constructor(
    private readonly catalogue: VideosService,
    private readonly watch: WatchService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Public()
  @Query(() => VideoPageGql, { description: 'Videos, newest first' })
  videos(
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
    @Args('cursor', { nullable: true }) cursor?: string,
    @Args('creatorId', { type: () => ID, nullable: true }) creatorId?: string,
  ) {
    return this.catalogue.list({ limit, cursor, creatorId });
  }

  @Public()
  @Query(() => VideoGql)
  video(@VideoId() videoId: string) {
    return this.catalogue.get(videoId);
  }

  @Query(() => PlaybackGql, { description: 'What to play: a short-lived signed URL where the source allows (signed-in users)' })
  videoPlayback(@VideoId() videoId: string) {
    return this.catalogue.playback(videoId);
  }

  @Query(() => VideoAnalyticsGql, { description: "The video's creator and admins only" })
  videoAnalytics(@CurrentUser() user: AuthUser, @VideoId() videoId: string) {
    return this.catalogue.analytics(user, videoId);
  }

  @Roles('creator', 'admin')
  @Mutation(() => VideoGql)
  createVideo(@CurrentUser() user: AuthUser, @Args('input') input: CreateVideoDto) {
    return this.catalogue.create(user.id, input);
  }

  @Mutation(() => WatchSessionStartGql)
  startWatchSession(@CurrentUser() user: AuthUser, @VideoId() videoId: string) {
    return this.watch.start(user.id, videoId);
  }

  @Mutation(() => WatchProgressGql)
  watchHeartbeat(@CurrentUser() user: AuthUser, @VideoId() videoId: string, @SessionId() sessionId: string, @Args('input') input: HeartbeatDto) {
    return this.watch.heartbeat(user.id, videoId, sessionId, input);
  }

  @Mutation(() => TriggerResultGql)
  claimWatchMilestone(@CurrentUser() user: AuthUser, @Args('input') input: ClaimMilestoneDto) {
    return this.watch.claimMilestone(user.id, input);
  }

  @Mutation(() => TriggerResultGql)
  claimAdView(@CurrentUser() user: AuthUser, @Args('input') input: ClaimAdDto) {
    return this.watch.claimAd(user.id, input);
  }

  /** Live viewer counts of a video (at most one update per second). */
  @SharedSubscription()
  @Subscription(() => ViewerCountGql, { resolve: (p: { viewerCountUpdated: ViewerCountGql }) => p.viewerCountUpdated })
  async viewerCountUpdated(@VideoId() videoId: string) {
    await this.catalogue.spec(videoId);
    return this.pubsub.iterator(viewerCountTopic(videoId));
  }
}
