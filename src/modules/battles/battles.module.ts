import { Module } from '@nestjs/common';
import { IdempotencyInterceptor } from '../../core/http/idempotency';
import { NotificationsModule } from '../notifications/notifications.module';
import { RewardsModule } from '../rewards/rewards.module';
import { BattleEndService } from './battle-end.service';
import { BattleUpdatesService } from './battle-updates.service';
import { BattleViewersService } from './battle-viewers.service';
import { BattleVotesService } from './battle-votes.service';
import { BattlesController } from './battles.controller';
import { BattlesGateway } from './battles.gateway';
import { BattlesJobs } from './battles.jobs';
import { BattlesRepository } from './battles.repository';
import { BattlesResolver } from './battles.resolver';
import { BattlesService } from './battles.service';

/**
 * Live battles: creators pit 2–8 creators against each other for a bounded time; viewers join
 * (a shared live count), vote once each (rewarded), and watch coalesced live tallies; a delayed
 * job ends each battle once (a sweep at start covers lost jobs), pays the optional prize pool
 * from the creator's ledger hold, and publishes a SHA-256 of the pseudonymised vote log.
 */
@Module({
  imports: [RewardsModule, NotificationsModule],
  controllers: [BattlesController],
  providers: [
    BattlesRepository,
    BattlesService,
    BattleVotesService,
    BattleEndService,
    BattleViewersService,
    BattleUpdatesService,
    BattlesJobs,
    BattlesResolver,
    BattlesGateway,
    IdempotencyInterceptor,
  ],
  exports: [BattlesService],
})
export class BattlesModule {}
