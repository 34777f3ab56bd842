import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { CurrentUser, Public, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { Idempotent } from '../../core/http/idempotency';
import { ClaimAdDto, ClaimMilestoneDto, CreateVideoDto, HeartbeatDto, ListVideosQueryDto } from './dto/videos.dto';
import { VideosService } from './videos.service';
import { WatchService } from './watch.service';

const VideoId = () => Param('videoId', new ParseUUIDPipe());
const SessionId = () => Param('sessionId', new ParseUUIDPipe());

@Controller('videos')
export class VideosController {
  constructor(
    private readonly videos: VideosService,
    private readonly watch: WatchService,
  ) {}

  /** Creators (and admins) publish a video from a URL, an upload or a hosted provider, with ad slots and milestones. */
  @Roles('creator', 'admin')
  @Post()
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateVideoDto) {
    return this.videos.create(user.id, dto);
  }

  @Public()
  @Get()
  list(@Query() q: ListVideosQueryDto) {
    return this.videos.list(q);
  }

  @Public()
  @Get(':videoId')
  get(@VideoId() videoId: string) {
    return this.videos.get(videoId);
  }

  /** Any signed-in user: what to play, signed for PLAYBACK_URL_TTL_SECONDS where the source allows. */
  @Get(':videoId/playback')
  playback(@VideoId() videoId: string) {
    return this.videos.playback(videoId);
  }

  /** The video's creator and admins only. */
  @Get(':videoId/analytics')
  analytics(@CurrentUser() user: AuthUser, @VideoId() videoId: string) {
    return this.videos.analytics(user, videoId);
  }

  /** Starts watching; a previous session of the same video by the same user stops counting. */
  @Post(':videoId/sessions')
  start(@CurrentUser() user: AuthUser, @VideoId() videoId: string) {
    return this.watch.start(user.id, videoId);
  }

  @Post(':videoId/sessions/:sessionId/heartbeat')
  @HttpCode(200)
  heartbeat(@CurrentUser() user: AuthUser, @VideoId() videoId: string, @SessionId() sessionId: string, @Body() dto: HeartbeatDto) {
    return this.watch.heartbeat(user.id, videoId, sessionId, dto);
  }

  @Get(':videoId/sessions/:sessionId')
  progress(@CurrentUser() user: AuthUser, @VideoId() videoId: string, @SessionId() sessionId: string) {
    return this.watch.progress(user.id, videoId, sessionId);
  }
}

/** Watch2Earn claims, answered like a trigger: 202 with the reward, 422 with the reason when not earned yet. */
@Controller('rewards')
export class WatchRewardsController {
  constructor(private readonly watch: WatchService) {}

  @Idempotent('rewards.watch-milestone')
  @Post('watch-milestone')
  @HttpCode(202)
  milestone(@CurrentUser() user: AuthUser, @Body() dto: ClaimMilestoneDto) {
    return this.watch.claimMilestone(user.id, dto);
  }

  @Idempotent('rewards.ad-view')
  @Post('ad-view')
  @HttpCode(202)
  adView(@CurrentUser() user: AuthUser, @Body() dto: ClaimAdDto) {
    return this.watch.claimAd(user.id, dto);
  }
}
