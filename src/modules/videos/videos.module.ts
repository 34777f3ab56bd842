import { Module } from '@nestjs/common';
import { IdempotencyInterceptor } from '../../core/http/idempotency';
import { MediaModule } from '../media/media.module';
import { RewardsModule } from '../rewards/rewards.module';
import { VideosController, WatchRewardsController } from './videos.controller';
import { VideosGateway } from './videos.gateway';
import { VideosResolver } from './videos.resolver';
import { VideosService } from './videos.service';
import { VideoViewersService } from './video-viewers.service';
import { WatchService } from './watch.service';
import { WatchActivity } from './watch-activity';

/**
 * Watch2Earn: videos with ad slots and milestones, verified watch sessions, milestone and
 * ad-view rewards through the rewards pipeline, analytics, and live viewer counts.
 */
@Module({
  imports: [RewardsModule, MediaModule],
  controllers: [VideosController, WatchRewardsController],
  providers: [VideosService, WatchService, VideoViewersService, VideosGateway, VideosResolver, IdempotencyInterceptor, WatchActivity],
  exports: [VideosService, VideoViewersService, WatchActivity],
})
export class VideosModule {}
