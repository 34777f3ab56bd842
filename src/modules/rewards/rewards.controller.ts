import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { CurrentUser, Public, Roles } from '../../core/auth/decorators';
import { OwnerOrAdmin } from '../../core/auth/ownership';
import type { AuthUser } from '../../core/auth/auth-user';
import { Idempotent } from '../../core/http/idempotency';
import { AnalyticsQueryDto, CreatorBudgetDto, CreatorBudgetQueryDto, FundPoolDto, HistoryQueryDto, TriggerRewardDto, UpdateRewardRuleDto } from './dto/rewards.dto';
import { RewardRules } from './reward-rules.service';
import { RewardsService } from './rewards.service';
import { CreatorBudgets } from './creator-budgets.service';

@Controller('rewards')
export class RewardsController {
  constructor(
    private readonly rewards: RewardsService,
    private readonly ruleBook: RewardRules,
  ) {}

  /** Every rule, public: what each action pays, its daily cap and cooldown. */
  @Public()
  @Get('rules')
  rules() {
    return this.ruleBook.list();
  }

  /** 202 for every valid request: `queued`, `duplicate`, `capped`, `cooldown` or `disabled`. */
  @Idempotent('rewards.trigger')
  @Post('trigger')
  @HttpCode(202)
  trigger(@CurrentUser() user: AuthUser, @Body() dto: TriggerRewardDto) {
    return this.rewards.trigger(user.id, dto);
  }

  @OwnerOrAdmin()
  @Get('user/:userId')
  summary(@Param('userId', new ParseUUIDPipe()) userId: string) {
    return this.rewards.summary(userId);
  }

  @OwnerOrAdmin()
  @Get('user/:userId/history')
  history(@Param('userId', new ParseUUIDPipe()) userId: string, @Query() q: HistoryQueryDto) {
    return this.rewards.history(userId, q);
  }

  /** Totals per action per day, top earners, pool balance and burn rate (admins). */
  @Roles('admin')
  @Get('analytics')
  analytics(@Query() q: AnalyticsQueryDto) {
    return this.rewards.analytics(q.days);
  }
}

@Roles('admin')
@Controller('admin/rewards')
export class AdminRewardsController {
  constructor(
    private readonly rewards: RewardsService,
    private readonly ruleBook: RewardRules,
    private readonly budgets: CreatorBudgets,
  ) {}

  /** The daily budget of all of one creator's videos (`?creatorId=`), or the default. */
  @Get('creator-budget')
  creatorBudget(@Query() q: CreatorBudgetQueryDto) {
    return this.budgets.get(q.creatorId);
  }

  /** Removes one creator's override (the default applies again). */
  @Delete('creator-budget/:creatorId')
  clearCreatorBudget(@Param('creatorId', new ParseUUIDPipe()) creatorId: string) {
    return this.budgets.clear(creatorId);
  }

  /** Sets the default creator budget, or one creator's (`{amount, creatorId}`). */
  @Patch('creator-budget')
  setCreatorBudget(@CurrentUser() admin: AuthUser, @Body() dto: CreatorBudgetDto) {
    return this.budgets.set(admin.id, dto);
  }

  @Get('rules/:action')
  rule(@Param('action') action: string) {
    return this.ruleBook.get(action);
  }

  /** Changes a rule; the change is audited (who, when, before, after). */
  @Patch('rules/:action')
  update(@CurrentUser() admin: AuthUser, @Param('action') action: string, @Body() dto: UpdateRewardRuleDto) {
    return this.ruleBook.update(admin.id, action, dto);
  }

  @Get('rules/:action/audit')
  audit(@Param('action') action: string, @Query() q: HistoryQueryDto) {
    return this.ruleBook.audit(action, q);
  }

  @Get('pool')
  pool() {
    return this.rewards.pool();
  }

  /** Mints SOFT from issuance into the rewards pool, once per reference. */
  @Idempotent('rewards.pool.fund')
  @Post('pool/fund')
  fund(@CurrentUser() admin: AuthUser, @Body() dto: FundPoolDto) {
    return this.rewards.fundPool(admin.id, dto);
  }
}
