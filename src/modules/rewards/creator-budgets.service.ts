import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { notFound } from '../../core/http/domain-error';
import { formatAmount, parseAmount } from '../ledger/money';
import { REWARD_ASSET } from './rewards.constants';
import { RewardsRepository } from './rewards.repository';
import { utcDay } from './rewards.rules';
import { big, num as int, iso } from '../../core/database/sql';
import type { CreatorBudgetDto } from './dto/rewards.dto';

const soft = (v: unknown) => formatAmount(big(v), REWARD_ASSET);

export interface CreatorBudgetView {
  /** null: the default budget every creator without an override gets. */
  creatorId: string | null;
  amount: string;
  asset: typeof REWARD_ASSET;
  /** `override` (this creator's own), `default` (admin-set default) or `config` (REWARDS_CREATOR_DAILY_BUDGET). */
  source: 'override' | 'default' | 'config';
  /** Spent today (UTC) by this creator's content; only for a creator. */
  spentToday?: string;
  updatedAt: string | null;
}

/**
 * What one creator's videos may make the platform pay per UTC day. The budget itself is spent
 * atomically inside `reward_trigger` (a guarded UPDATE per creator and day); this service reads
 * and sets the budgets (admins) and flags viewers who farm one creator.
 */
@Injectable()
export class CreatorBudgets {
  readonly defaultBudget: bigint;

  constructor(
    private readonly repo: RewardsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.defaultBudget = parseAmount(config.rewardBounds.creatorDailyBudget, REWARD_ASSET, 'REWARDS_CREATOR_DAILY_BUDGET', { allowZero: true });
  }

  async get(creatorId?: string): Promise<CreatorBudgetView> {
    if (creatorId) await this.assertUser(creatorId);
    const rows = await this.repo.budgets(creatorId ? [creatorId, 'default'] : ['default']);
    const own = creatorId ? rows.find((r) => r.scope === creatorId) : undefined;
    const def = rows.find((r) => r.scope === 'default');
    const chosen = own ?? def;
    const view: CreatorBudgetView = {
      creatorId: creatorId ?? null,
      amount: chosen ? soft(chosen.amount) : formatAmount(this.defaultBudget, REWARD_ASSET),
      asset: REWARD_ASSET,
      source: own ? 'override' : def ? 'default' : 'config',
      updatedAt: chosen ? iso(chosen.updated_at) : null,
    };
    if (creatorId) {
      view.spentToday = soft(await this.repo.creatorSpent(creatorId, utcDay(new Date())));
    }
    return view;
  }

  /** Sets the default budget, or one creator's override (admins). */
  async set(actorId: string, dto: CreatorBudgetDto): Promise<CreatorBudgetView> {
    const amount = parseAmount(dto.amount, REWARD_ASSET, 'amount', { allowZero: true });
    if (dto.creatorId) await this.assertUser(dto.creatorId);
    await this.repo.setBudget(dto.creatorId ?? 'default', amount, actorId);
    return this.get(dto.creatorId);
  }

  /** Drops one creator's override: the default applies again (admins). */
  async clear(creatorId: string): Promise<CreatorBudgetView> {
    await this.assertUser(creatorId);
    await this.repo.clearBudget(creatorId);
    return this.get(creatorId);
  }

  private async assertUser(id: string) {
    if (!(await this.repo.userExists(id))) throw notFound('Creator not found');
  }

  /**
   * Viewers whose rewards on one creator's content exceed REWARDS_FARMING_THRESHOLD claims
   * between two UTC days: one account farming one creator (often the creator's own second account).
   */
  async farming(from: string, to: string) {
    const rows = await this.repo.farming(from, to, this.config.rewardBounds.farmingThreshold);
    return {
      threshold: this.config.rewardBounds.farmingThreshold,
      pairs: rows.map((r) => ({
        viewerId: r.user_id,
        viewerUsername: r.username,
        creatorId: r.creator_id,
        creatorUsername: r.creator_username,
        claims: int(r.count),
        amount: soft(r.amount),
      })),
    };
  }
}
