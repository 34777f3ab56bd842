import { Module, OnModuleInit } from '@nestjs/common';
import { IdempotencyInterceptor } from '../../core/http/idempotency';
import { NotificationsModule } from '../notifications/notifications.module';
import { RewardsModule } from '../rewards/rewards.module';
import { VideosModule } from '../videos/videos.module';
import { WatchActivity } from '../videos/watch-activity';
import { CreatorController, CreatorsController } from './creator.controller';
import { CreatorLive } from './creator.live';
import { CreatorRepository } from './creator.repository';
import { CreatorResolver } from './creator.resolver';
import { FollowsService } from './follows.service';
import { MilestonesService } from './milestones.service';
import { StatsRepository } from './stats.repository';
import { StatsService } from './stats.service';
import { TipsService } from './tips.service';

/**
 * Creator economy: follows (with the `follow` reward), tips through the ledger (with the
 * TIP_FEE_BPS fee), stats from real watching and tips with a 30-day series, public top
 * content, milestones (a default ladder plus the creator's targets, achieved exactly once,
 * with an estimated date), and live `tip_received` / `tipReceived` / `creatorStatsUpdated`.
 */
@Module({
  imports: [NotificationsModule, RewardsModule, VideosModule],
  controllers: [CreatorController, CreatorsController],
  providers: [CreatorRepository, StatsRepository, StatsService, CreatorLive, FollowsService, TipsService, MilestonesService, CreatorResolver, IdempotencyInterceptor],
  exports: [StatsService],
})
export class CreatorModule implements OnModuleInit {
  constructor(
    private readonly activity: WatchActivity,
    private readonly live: CreatorLive,
  ) {}

  /** Verified watching changes a creator's views and watch time: throttled stats (and milestone checks) follow. */
  onModuleInit() {
    this.activity.subscribe((e) => this.live.touch(e.creatorId));
  }
}
