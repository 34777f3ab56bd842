import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { Tx, withTransaction } from '../../core/database/transaction';
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
import { DbTriggerStatus, TriggerStatus, perDay, refusalReason, runwayDays, utcDay, wireStatus } from './rewards.rules';
import { RewardPayouts } from './reward-payouts.service';
import { CreatorBudgets } from './creator-budgets.service';
import { big, int, iso } from './sql';
import type { FundPoolDto, TriggerRewardDto, UpdateRewardRuleDto } from './dto/rewards.dto';

export interface RuleView {
  action: string;
  description: string;
  amount: string;
  asset: typeof REWARD_ASSET;
  dailyCap: number;
  cooldownSeconds: number;
  enabled: boolean;
  grantedBy: 'client' | 'server';
  targetRequired: boolean;
  updatedAt: string;
}

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

interface RuleRow {
  action: string;
  description: string;
  amount: string;
  daily_cap: number;
  cooldown_seconds: number;
  enabled: boolean;
  granted_by: 'client' | 'server';
  target_required: boolean;
  updated_at: Date;
}

interface RewardRow {
  id: string;
  action: string;
  target_id: string | null;
  amount: string;
  status: 'queued' | 'paid';
  created_at: Date;
  paid_at: Date | null;
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

function toRuleView(r: RuleRow): RuleView {
  return {
    action: r.action,
    description: r.description,
    amount: soft(r.amount),
    asset: REWARD_ASSET,
    dailyCap: r.daily_cap,
    cooldownSeconds: r.cooldown_seconds,
    enabled: r.enabled,
    grantedBy: r.granted_by,
    targetRequired: r.target_required,
    updatedAt: iso(r.updated_at)!,
  };
}

/**
 * Reward rules, the trigger, user reward data, pool funding and admin analytics. Granting is
 * one SQL function call (`reward_trigger`): the duplicate check is a unique index, cap and
 * cooldown a guarded UPDATE of a counter row, and the `queued` reward row commits with the
 * counters. The payout (BullMQ, then the ledger) is `RewardPayouts`.
 */
@Injectable()
export class RewardsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Rewards');
  /** `granted_by` and `target_required` never change after the migration: cached per action. */
  private readonly ruleKinds = new Map<string, Pick<RuleRow, 'granted_by' | 'target_required'>>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly ledger: LedgerService,
    private readonly payouts: RewardPayouts,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly budgets: CreatorBudgets,
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
    const [acct] = await this.ds.query(`SELECT id, posted, held FROM ledger_accounts WHERE account_key = $1`, [POOL_ACCOUNT_KEY]);
    const [agg] = await this.ds.query(
      `SELECT
         COALESCE(SUM(amount) FILTER (WHERE status = 'paid'), 0) AS paid_out,
         COUNT(*) FILTER (WHERE status = 'queued') AS queued_count,
         COALESCE(SUM(amount) FILTER (WHERE status = 'queued'), 0) AS queued_amount,
         COALESCE(SUM(amount) FILTER (WHERE status = 'paid' AND paid_at >= now() - make_interval(days => $1)), 0) AS recent_paid
       FROM rewards`,
      [days],
    );
    const funded = acct
      ? big(
          (
            await this.ds.query(`SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_transfers WHERE credit_account_id = $1 AND kind = $2`, [
              acct.id,
              POOL_FUNDING_KIND,
            ])
          )[0].s,
        )
      : 0n;
    const balance = acct ? big(acct.posted) - big(acct.held) : 0n;
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

  // ------------------------------------------------------------------ rules

  async rules(): Promise<RuleView[]> {
    const rows: RuleRow[] = await this.ds.query(`SELECT * FROM reward_rules ORDER BY granted_by, action`);
    return rows.map(toRuleView);
  }

  async rule(action: string): Promise<RuleView> {
    const [r] = await this.ds.query(`SELECT * FROM reward_rules WHERE action = $1`, [action]);
    if (!r) throw notFound(`No reward rule for action "${action}"`);
    return toRuleView(r);
  }

  /** Admin change of a rule, recorded with who, when, before and after in the same transaction. */
  async updateRule(actorId: string, action: string, dto: UpdateRewardRuleDto): Promise<RuleView> {
    const set: string[] = [];
    const params: unknown[] = [action];
    const add = (col: string, v: unknown) => {
      params.push(v);
      set.push(`${col} = $${params.length}`);
    };
    if (dto.amount !== undefined) add('amount', parseAmount(dto.amount, REWARD_ASSET, 'amount').toString());
    if (dto.dailyCap !== undefined) add('daily_cap', dto.dailyCap);
    if (dto.cooldownSeconds !== undefined) add('cooldown_seconds', dto.cooldownSeconds);
    if (dto.enabled !== undefined) add('enabled', dto.enabled);
    if (dto.description !== undefined) add('description', dto.description.trim());
    if (!set.length) throw badRequest('Nothing to change: send amount, dailyCap, cooldownSeconds, enabled or description');
    add('updated_by', actorId);
    return withTransaction(this.ds, async (tx) => {
      const [before] = await tx.query<RuleRow>(`SELECT * FROM reward_rules WHERE action = $1 FOR UPDATE`, [action]);
      if (!before) throw notFound(`No reward rule for action "${action}"`);
      const [after] = (await tx.run<RuleRow>(`UPDATE reward_rules SET ${set.join(', ')}, updated_at = now() WHERE action = $1 RETURNING *`, params)).rows;
      const snapshot = (r: RuleRow) => {
        const { updatedAt: _u, asset: _a, ...rest } = toRuleView(r);
        return rest;
      };
      await tx.query(`INSERT INTO reward_rule_audit (action, actor_id, before, after) VALUES ($1, $2, $3, $4)`, [
        action,
        actorId,
        JSON.stringify(snapshot(before)),
        JSON.stringify(snapshot(after)),
      ]);
      return toRuleView(after);
    });
  }

  async ruleAudit(action: string, q: { limit?: unknown; cursor?: unknown }) {
    await this.rule(action);
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, (v): v is string => typeof v === 'string' && /^\d{1,19}$/.test(v));
    const rows = await this.ds.query(
      `SELECT a.id, a.action, a.actor_id, u.username AS actor_username, a.before, a.after, a.created_at
       FROM reward_rule_audit a LEFT JOIN users u ON u.id = a.actor_id
       WHERE a.action = $1 ${cursor ? 'AND a.id < $3' : ''}
       ORDER BY a.id DESC LIMIT $2`,
      cursor ? [action, limit + 1, cursor] : [action, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r: any) => ({
        id: String(r.id),
        action: r.action,
        actorId: r.actor_id,
        actorUsername: r.actor_username,
        before: r.before,
        after: r.after,
        createdAt: iso(r.created_at),
      }),
      (r: any) => String(r.id),
    );
  }

  private async ruleKind(action: string) {
    let k = this.ruleKinds.get(action);
    if (!k) {
      const [r] = await this.ds.query(`SELECT granted_by, target_required FROM reward_rules WHERE action = $1`, [action]);
      if (!r) throw badRequest(`Unknown action "${action}"; see GET /api/rewards/rules`, { field: 'action' });
      k = r as Pick<RuleRow, 'granted_by' | 'target_required'>;
      this.ruleKinds.set(action, k);
    }
    return k;
  }

  // ------------------------------------------------------------------ granting

  /** `POST /api/rewards/trigger`: client-reported actions only. */
  async trigger(userId: string, dto: TriggerRewardDto): Promise<TriggerResult> {
    const kind = await this.ruleKind(dto.action);
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
    const sql = `SELECT * FROM reward_trigger($1, $2, $3, $4::uuid, $5::numeric, $6, $7::uuid, $8::numeric)`;
    const params = [
      input.userId,
      input.action,
      input.targetId ?? null,
      input.contextId ?? null,
      input.amount?.toString() ?? null,
      POOL_ACCOUNT_KEY,
      input.creatorId ?? null,
      this.budgets.defaultBudget.toString(),
    ];
    const [row]: { status: DbTriggerStatus; reward_id: string | null; amount: string | null; retry_after_seconds: number | null }[] = tx
      ? await tx.query(sql, params)
      : await this.ds.query(sql, params);
    if (row.status === 'unknown') throw badRequest(`Unknown action "${input.action}"; see GET /api/rewards/rules`, { field: 'action' });
    if (row.status === 'queued') {
      const enqueue = () => this.payouts.enqueue(row.reward_id!);
      if (tx) tx.afterCommit(enqueue);
      else await enqueue();
      return { rewardId: row.reward_id, status: 'queued', amount: soft(row.amount) };
    }
    const facts =
      row.status === 'cooldown' || row.status === 'capped'
        ? await this.ruleFacts(input.action, tx)
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

  private async ruleFacts(action: string, tx?: Tx | null) {
    const sql = `SELECT daily_cap, cooldown_seconds FROM reward_rules WHERE action = $1`;
    const [r] = tx ? await tx.query(sql, [action]) : await this.ds.query(sql, [action]);
    return { action, dailyCap: r?.daily_cap ?? 0, cooldownSeconds: r?.cooldown_seconds ?? 0 };
  }

  /** The reward already granted to a user for an action and target, if any. */
  async existing(userId: string, action: string, targetId: string): Promise<RewardView | null> {
    const [r] = await this.ds.query(
      `SELECT id, action, target_id, amount, status, created_at, paid_at FROM rewards WHERE user_id = $1 AND action = $2 AND target_id = $3`,
      [userId, action, targetId],
    );
    return r ? toRewardView(r) : null;
  }

  // ------------------------------------------------------------------ reads

  async summary(userId: string) {
    const today = utcDay(new Date());
    const [exists] = await this.ds.query(`SELECT 1 FROM users WHERE id = $1`, [userId]);
    if (!exists) throw notFound('User not found');
    const [[totals], byAction, recent, [acct]] = await Promise.all([
      this.ds.query(
        `SELECT COALESCE(SUM(amount) FILTER (WHERE status = 'paid'), 0) AS total,
                COALESCE(SUM(amount) FILTER (WHERE status = 'paid' AND day = $2), 0) AS today,
                COALESCE(SUM(amount) FILTER (WHERE status = 'queued'), 0) AS pending
         FROM rewards WHERE user_id = $1`,
        [userId, today],
      ),
      this.ds.query(
        `SELECT action, COUNT(*) AS count, SUM(amount) AS amount FROM rewards WHERE user_id = $1 AND status = 'paid'
         GROUP BY action ORDER BY SUM(amount) DESC, action`,
        [userId],
      ),
      this.ds.query(
        `SELECT id, action, target_id, amount, status, created_at, paid_at FROM rewards WHERE user_id = $1
         ORDER BY created_at DESC, id DESC LIMIT 20`,
        [userId],
      ),
      this.ds.query(`SELECT posted FROM ledger_accounts WHERE user_id = $1 AND asset = $2`, [userId, REWARD_ASSET]),
    ]);
    return {
      userId,
      asset: REWARD_ASSET,
      balance: soft(acct?.posted ?? 0),
      totalEarned: soft(totals.total),
      todayEarned: soft(totals.today),
      pending: soft(totals.pending),
      byAction: byAction.map((r: any) => ({ action: r.action, count: int(r.count), amount: soft(r.amount) })),
      recent: recent.map(toRewardView),
    };
  }

  /** Every reward of a user, newest first, cursor paged. */
  async history(userId: string, q: { limit?: unknown; cursor?: unknown }): Promise<Page<RewardView>> {
    const limit = parseLimit(q.limit);
    // The cursor is the last reward's id; its (created_at, id) is read back exactly (microseconds).
    const cursor = decodeCursor(q.cursor, (v): v is string => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v));
    const rows = await this.ds.query(
      `SELECT id, action, target_id, amount, status, created_at, paid_at FROM rewards WHERE user_id = $1
       ${cursor ? 'AND (created_at, id) < (SELECT c.created_at, c.id FROM rewards c WHERE c.id = $3 AND c.user_id = $1)' : ''}
       ORDER BY created_at DESC, id DESC LIMIT $2`,
      cursor ? [userId, limit + 1, cursor] : [userId, limit + 1],
    );
    return toPage(rows, limit, toRewardView, (r: RewardRow) => r.id);
  }

  /** Admin analytics over the last `days` UTC days (today included). */
  async analytics(daysRaw?: string) {
    const days = daysRaw === undefined ? 7 : Number(daysRaw);
    if (!Number.isInteger(days) || days < 1 || days > 90) throw badRequest('days must be an integer between 1 and 90');
    const to = utcDay(new Date());
    const from = utcDay(new Date(Date.now() - (days - 1) * 86_400_000));
    const granted = `status IN ('queued', 'paid') AND day BETWEEN $1::date AND $2::date`;
    const [[totals], byAction, daily, top, pool] = await Promise.all([
      this.ds.query(`SELECT COUNT(*) AS count, COALESCE(SUM(amount), 0) AS amount, COUNT(DISTINCT user_id) AS users FROM rewards WHERE ${granted}`, [from, to]),
      this.ds.query(`SELECT action, COUNT(*) AS count, SUM(amount) AS amount FROM rewards WHERE ${granted} GROUP BY action ORDER BY action`, [from, to]),
      this.ds.query(
        `SELECT day::text AS day, action, COUNT(*) AS count, SUM(amount) AS amount FROM rewards WHERE ${granted}
         GROUP BY day, action ORDER BY day DESC, action`,
        [from, to],
      ),
      this.ds.query(
        `SELECT r.user_id, u.username, COUNT(*) AS count, SUM(r.amount) AS amount
         FROM rewards r JOIN users u ON u.id = r.user_id
         WHERE r.status IN ('queued', 'paid') AND r.day BETWEEN $1::date AND $2::date
         GROUP BY r.user_id, u.username ORDER BY SUM(r.amount) DESC, r.user_id LIMIT 10`,
        [from, to],
      ),
      this.pool(days),
    ]);
    const suspectedFarming = await this.budgets.farming(from, to);
    return {
      from,
      to,
      days,
      totals: { count: int(totals.count), amount: soft(totals.amount), users: int(totals.users) },
      byAction: byAction.map((r: any) => ({ action: r.action, count: int(r.count), amount: soft(r.amount) })),
      daily: daily.map((r: any) => ({ day: r.day, action: r.action, count: int(r.count), amount: soft(r.amount) })),
      topEarners: top.map((r: any) => ({ userId: r.user_id, username: r.username, count: int(r.count), amount: soft(r.amount) })),
      pool,
      suspectedFarming,
    };
  }
}
