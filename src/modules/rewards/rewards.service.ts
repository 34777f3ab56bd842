import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { Tx } from '../../core/database/transaction';
import { DomainError, badRequest, notFound } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { LedgerService } from '../ledger/ledger.service';
import { formatAmount, parseAmount } from '../ledger/money';
import {
  ISSUANCE,
  POOL_ACCOUNT_KEY,
  POOL_FUNDING_KIND,
  POOL_SEED_KEY,
  REWARD_ASSET,
  REWARDS_POOL,
  poolFundKey,
} from './rewards.constants';
import { TriggerStatus, perDay, refusalReason, runwayDays, utcDay, wireStatus } from './rewards.rules';
import { RewardPayouts } from './reward-payouts.service';
import { CreatorBudgets } from './creator-budgets.service';
import { RewardRow, RewardsRepository } from './rewards.repository';
import { RewardRules } from './reward-rules.service';
import { big, num as int, iso } from '../../core/database/sql';
import type { FundPoolDto, TriggerRewardDto } from './dto/rewards.dto';
import { isUUID } from 'class-validator';


export interface RewardView {
  id: string;
  action: string;
  targetId: string | null;
  amount: string;
  asset: typeof REWARD_ASSET;
  status: 'queued' | 'paid';
  createdAt: string;
  paidAt: string | null;
}

export interface TriggerResult {
  rewardId: string | null;
  status: TriggerStatus;
  /** SOFT this reward pays (the earlier reward's amount for `duplicate`, zero when refused). */
  amount: string;
  reason?: string;
  retryAfterSeconds?: number;
}

export interface GrantInput {
  userId: string;
  action: string;
  targetId?: string | null;
  /** The object the reward is about (a video), for analytics. */
  contextId?: string | null;
  /** Asks for another amount than the rule's (a video's milestone or ad reward); the rule's amount caps it. */
  amount?: bigint;
  /** The creator whose content pays this reward: spends from that creator's daily budget. */
  creatorId?: string | null;
}



const ZERO = formatAmount(0n, REWARD_ASSET);
const soft = (minor: bigint | string | null | undefined) => formatAmount(big(minor), REWARD_ASSET);

export function toRewardView(r: RewardRow): RewardView {
  return {
    id: r.id,
    action: r.action,
    targetId: r.target_id,
    amount: soft(r.amount),
    asset: REWARD_ASSET,
    status: r.status,
    createdAt: iso(r.created_at)!,
    paidAt: iso(r.paid_at),
  };
}


/**
 * The trigger, user reward data, pool funding and admin analytics (rules: `RewardRules`). Granting is
 * one SQL function call (`reward_trigger`): the duplicate check is a unique index, cap and
 * cooldown a guarded UPDATE of a counter row, and the `queued` reward row commits with the
 * counters. The payout (BullMQ, then the ledger) is `RewardPayouts`.
 */
@Injectable()
export class RewardsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Rewards');

  constructor(
    private readonly repo: RewardsRepository,
    private readonly ledger: LedgerService,
    private readonly payouts: RewardPayouts,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly budgets: CreatorBudgets,
    private readonly rules: RewardRules,
  ) {}

  async onApplicationBootstrap() {
    await this.seedPool();
  }

  // ------------------------------------------------------------------ pool

  /**
   * Mints REWARDS_POOL_SEED SOFT into the pool once per database: the ledger key makes a
   * second start (or a second instance starting at the same moment) a replay.
   */
  async seedPool(): Promise<void> {
    const amount = parseAmount(this.config.rewards.poolSeed, REWARD_ASSET, 'REWARDS_POOL_SEED', { allowZero: true });
    if (amount === 0n) return;
    try {
      const t = await this.ledger.transfer({
        key: POOL_SEED_KEY,
        kind: POOL_FUNDING_KIND,
        from: ISSUANCE,
        to: REWARDS_POOL,
        asset: REWARD_ASSET,
        amount,
        reference: 'seed',
      });
      if (!t.replayed) this.logger.log(`Rewards pool seeded with ${formatAmount(amount, REWARD_ASSET)} SOFT`);
    } catch (e) {
      if (e instanceof DomainError && e.code === 'CONFLICT') {
        this.logger.log('Rewards pool was seeded before with another amount; REWARDS_POOL_SEED is not applied again');
        return;
      }
      throw e;
    }
  }

  /** Admin funding: SOFT minted from issuance into the pool, once per reference. */
  async fundPool(actorId: string, dto: FundPoolDto) {
    const amount = parseAmount(dto.amount, REWARD_ASSET, 'amount');
    const reference = dto.reference.trim();
    if (!reference) throw badRequest('reference must not be blank');
    const t = await this.ledger.transfer({
      key: poolFundKey(reference),
      kind: POOL_FUNDING_KIND,
      from: ISSUANCE,
      to: REWARDS_POOL,
      asset: REWARD_ASSET,
      amount,
      reference,
      metadata: { actorId },
    });
    // Rewards waiting for money are paid now rather than at their next retry.
    void this.payouts.sweep({ olderThanSeconds: 0, promote: true }).catch((e) => this.logger.warn(`sweep after funding failed: ${(e as Error).message}`));
    return {
      id: t.id,
      asset: REWARD_ASSET,
      amount: formatAmount(amount, REWARD_ASSET),
      reference,
      replayed: t.replayed,
      createdAt: t.createdAt.toISOString(),
      pool: await this.pool(),
    };
  }

  async pool(days = 7) {
    const acct = await this.ledger.systemAccount('rewards_pool', REWARD_ASSET, POOL_FUNDING_KIND);
    const agg = await this.repo.poolStats(days);
    const { funded, available: balance } = acct;
    const burn = perDay(big(agg.recent_paid), days);
    return {
      asset: REWARD_ASSET,
      balance: formatAmount(balance, REWARD_ASSET),
      funded: formatAmount(funded, REWARD_ASSET),
      paidOut: soft(agg.paid_out),
      queuedCount: int(agg.queued_count),
      queuedAmount: soft(agg.queued_amount),
      burnRatePerDay: formatAmount(burn, REWARD_ASSET),
      runwayDays: runwayDays(balance, burn),
    };
  }

  // ------------------------------------------------------------------ granting

  /** `POST /api/rewards/trigger`: client-reported actions only. */
  async trigger(userId: string, dto: TriggerRewardDto): Promise<TriggerResult> {
    const kind = await this.rules.kind(dto.action);
    if (kind.granted_by === 'server') {
      throw badRequest(`action "${dto.action}" is granted by the server after verification and cannot be triggered`, { field: 'action' });
    }
    if (kind.target_required && !dto.targetId) throw badRequest(`targetId is required for ${dto.action}`, { field: 'targetId' });
    return this.grant({ userId, action: dto.action, targetId: dto.targetId ?? null });
  }

  /**
   * Grants a reward (any action, for server flows: verified watching, battle votes). Joins the
   * caller's transaction when given one; the payout is enqueued once the reward committed.
   */
  async grant(input: GrantInput, tx?: Tx | null): Promise<TriggerResult> {
    const row = await this.repo.trigger(
      [
        input.userId,
        input.action,
        input.targetId ?? null,
        input.contextId ?? null,
        input.amount?.toString() ?? null,
        POOL_ACCOUNT_KEY,
        input.creatorId ?? null,
        this.budgets.defaultBudget.toString(),
      ],
      tx,
    );
    if (row.status === 'unknown') throw badRequest(`Unknown action "${input.action}"; see GET /api/rewards/rules`, { field: 'action' });
    if (row.status === 'queued') {
      const enqueue = () => this.payouts.enqueue(row.reward_id!);
      if (tx) tx.afterCommit(enqueue);
      else await enqueue();
      return { rewardId: row.reward_id, status: 'queued', amount: soft(row.amount) };
    }
    const facts =
      row.status === 'cooldown' || row.status === 'capped'
        ? await this.rules.facts(input.action, tx)
        : { action: input.action, dailyCap: 0, cooldownSeconds: 0 };
    const out: TriggerResult = {
      rewardId: row.reward_id,
      status: wireStatus(row.status),
      amount: row.status === 'duplicate' ? soft(row.amount) : ZERO,
      reason: refusalReason(row.status, facts, row.retry_after_seconds),
    };
    if (row.retry_after_seconds !== null) out.retryAfterSeconds = row.retry_after_seconds;
    return out;
  }

  /** The reward already granted to a user for an action and target, if any. */
  async existing(userId: string, action: string, targetId: string): Promise<RewardView | null> {
    const r = await this.repo.existing(userId, action, targetId);
    return r ? toRewardView(r) : null;
  }

  // ------------------------------------------------------------------ reads

  async summary(userId: string) {
    const today = utcDay(new Date());
    if (!(await this.repo.userExists(userId))) throw notFound('User not found');
    const [totals, byAction, recent, balances] = await Promise.all([
      this.repo.userTotals(userId, today),
      this.repo.userByAction(userId),
      this.repo.userRewards(userId, 20),
      this.ledger.balances(userId),
    ]);
    return {
      userId,
      asset: REWARD_ASSET,
      balance: soft(balances.find((b) => b.asset === REWARD_ASSET)?.total ?? 0n),
      totalEarned: soft(totals.total),
      todayEarned: soft(totals.today),
      pending: soft(totals.pending),
      byAction: byAction.map((r) => ({ action: r.action, count: int(r.count), amount: soft(r.amount) })),
      recent: recent.map(toRewardView),
    };
  }

  /** Every reward of a user, newest first, cursor paged. */
  async history(userId: string, q: { limit?: unknown; cursor?: unknown }): Promise<Page<RewardView>> {
    const limit = parseLimit(q.limit);
    // The cursor is the last reward's id; its (created_at, id) is read back exactly (microseconds).
    const cursor = decodeCursor(q.cursor, (v): v is string => typeof v === 'string' && isUUID(v));
    const rows = await this.repo.userRewards(userId, limit + 1, cursor);
    return toPage(rows, limit, toRewardView, (r: RewardRow) => r.id);
  }

  /** Admin analytics over the last `days` UTC days (today included). */
  async analytics(daysRaw?: string) {
    const days = daysRaw === undefined ? 7 : Number(daysRaw);
    if (!Number.isInteger(days) || days < 1 || days > 90) throw badRequest('days must be an integer between 1 and 90');
    const to = utcDay(new Date());
    const from = utcDay(new Date(Date.now() - (days - 1) * 86_400_000));
    const [totals, byAction, daily, top, pool] = await Promise.all([
      this.repo.grantedTotals(from, to),
      this.repo.grantedByAction(from, to),
      this.repo.grantedDaily(from, to),
      this.repo.topEarners(from, to),
      this.pool(days),
    ]);
    const suspectedFarming = await this.budgets.farming(from, to);
    return {
      from,
      to,
      days,
      totals: { count: int(totals.count), amount: soft(totals.amount), users: int(totals.users) },
      byAction: byAction.map((r) => ({ action: r.action, count: int(r.count), amount: soft(r.amount) })),
      daily: daily.map((r) => ({ day: r.day, action: r.action, count: int(r.count), amount: soft(r.amount) })),
      topEarners: top.map((r) => ({ userId: r.user_id, username: r.username, count: int(r.count), amount: soft(r.amount) })),
      pool,
      suspectedFarming,
    };
  }
}
