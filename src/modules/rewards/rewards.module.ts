import { Module } from '@nestjs/common';
import { IdempotencyInterceptor } from '../../core/http/idempotency';
import { AdminRewardsController, RewardsController } from './rewards.controller';
import { RewardsResolver } from './rewards.resolver';
import { RewardsService } from './rewards.service';
import { RewardPayouts } from './reward-payouts.service';
import { CreatorBudgets } from './creator-budgets.service';
import { RewardRules } from './reward-rules.service';
import { RewardsRepository } from './rewards.repository';

/**
 * Rewards in SOFT: rules, the trigger, payouts through BullMQ into the ledger, user reward
 * data and admin analytics. Other modules grant rewards with `RewardsService.grant`.
 */
@Module({
  controllers: [RewardsController, AdminRewardsController],
  providers: [RewardsService, RewardRules, RewardsRepository, RewardPayouts, CreatorBudgets, RewardsResolver, IdempotencyInterceptor],
  exports: [RewardsService],
})
export class RewardsModule {}
