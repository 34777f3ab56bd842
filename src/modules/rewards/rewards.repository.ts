import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Tx } from '../../core/database/transaction';
import type { DbTriggerStatus } from './rewards.rules';

export interface RuleRow {
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

export interface RewardRow {
  id: string;
  action: string;
  target_id: string | null;
  amount: string;
  status: 'queued' | 'paid';
  created_at: Date;
  paid_at: Date | null;
}

export interface PaidRow {
  id: string;
  user_id: string;
  action: string;
  target_id: string | null;
  amount: string;
  created_at: Date;
  paid_at: Date;
}

export interface TriggerRow {
  status: DbTriggerStatus;
  reward_id: string | null;
  amount: string | null;
  retry_after_seconds: number | null;
}

/** Per-action count and amount (strings as pg returns them). */
export interface ActionSum {
  action: string;
  count: string;
  amount: string;
}

/** Advisory lock (transaction scope) that payout transactions take turns on. */
const PAYOUT_LOCK = 7_245_100;
const REWARD_COLUMNS = `id, action, target_id, amount, status, created_at, paid_at`;
const GRANTED = `status IN ('queued', 'paid') AND day BETWEEN $1::date AND $2::date`;

/** The rewards module's SQL on its own tables (`rewards`); ledger reads go through LedgerService. */
@Injectable()
export class RewardsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** One call of the `reward_trigger` SQL function (dedupe, cap, cooldown, budget and the queued row). */
  async trigger(params: unknown[], tx?: Tx | null): Promise<TriggerRow> {
    const sql = `SELECT * FROM reward_trigger($1, $2, $3, $4::uuid, $5::numeric, $6, $7::uuid, $8::numeric)`;
    const [row] = tx ? await tx.query<TriggerRow>(sql, params) : await this.ds.query(sql, params);
    return row;
  }

  async poolStats(days: number): Promise<{ paid_out: string; queued_count: string; queued_amount: string; recent_paid: string }> {
    const [agg] = await this.ds.query(
      `SELECT
         COALESCE(SUM(amount) FILTER (WHERE status = 'paid'), 0) AS paid_out,
         COUNT(*) FILTER (WHERE status = 'queued') AS queued_count,
         COALESCE(SUM(amount) FILTER (WHERE status = 'queued'), 0) AS queued_amount,
         COALESCE(SUM(amount) FILTER (WHERE status = 'paid' AND paid_at >= now() - make_interval(days => $1)), 0) AS recent_paid
       FROM rewards`,
      [days],
    );
    return agg;
  }

  async existing(userId: string, action: string, targetId: string): Promise<RewardRow | undefined> {
    const [r] = await this.ds.query(`SELECT ${REWARD_COLUMNS} FROM rewards WHERE user_id = $1 AND action = $2 AND target_id = $3`, [userId, action, targetId]);
    return r;
  }

  async userExists(userId: string): Promise<boolean> {
    return (await this.ds.query(`SELECT 1 FROM users WHERE id = $1`, [userId])).length > 0;
  }

  async userTotals(userId: string, today: string): Promise<{ total: string; today: string; pending: string }> {
    const [totals] = await this.ds.query(
      `SELECT COALESCE(SUM(amount) FILTER (WHERE status = 'paid'), 0) AS total,
              COALESCE(SUM(amount) FILTER (WHERE status = 'paid' AND day = $2), 0) AS today,
              COALESCE(SUM(amount) FILTER (WHERE status = 'queued'), 0) AS pending
       FROM rewards WHERE user_id = $1`,
      [userId, today],
    );
    return totals;
  }

  userByAction(userId: string): Promise<ActionSum[]> {
    return this.ds.query(
      `SELECT action, COUNT(*) AS count, SUM(amount) AS amount FROM rewards WHERE user_id = $1 AND status = 'paid'
       GROUP BY action ORDER BY SUM(amount) DESC, action`,
      [userId],
    );
  }

  /** A user's rewards, newest first, after the reward `cursor` (its exact (created_at, id) is read back). */
  userRewards(userId: string, limit: number, cursor?: string | null): Promise<RewardRow[]> {
    return this.ds.query(
      `SELECT ${REWARD_COLUMNS} FROM rewards WHERE user_id = $1
       ${cursor ? 'AND (created_at, id) < (SELECT c.created_at, c.id FROM rewards c WHERE c.id = $3 AND c.user_id = $1)' : ''}
       ORDER BY created_at DESC, id DESC LIMIT $2`,
      cursor ? [userId, limit, cursor] : [userId, limit],
    );
  }

  // ------------------------------------------------------------------- payouts

  async status(rewardId: string): Promise<'queued' | 'paid' | null> {
    const [r] = await this.ds.query(`SELECT status FROM rewards WHERE id = $1`, [rewardId]);
    return r?.status ?? null;
  }

  /** Locks the reward if it is still queued (waits for another payout holding it). */
  async lockQueued(tx: Tx, rewardId: string): Promise<boolean> {
    return (await tx.query(`SELECT id FROM rewards WHERE id = $1 AND status = 'queued' FOR UPDATE`, [rewardId])).length > 0;
  }

  /** Marks the reward and up to `others` queued rewards no other payout holds as paid. */
  async markBatchPaid(tx: Tx, rewardId: string, others: number): Promise<PaidRow[]> {
    const res = await tx.run<PaidRow>(
      `UPDATE rewards SET status = 'paid', paid_at = clock_timestamp(), last_error = NULL, attempts = attempts + 1
       WHERE id = $1 OR id IN (
         SELECT id FROM rewards WHERE status = 'queued' AND id <> $1 AND last_error IS NULL
         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id, user_id, action, target_id, amount, created_at, paid_at`,
      [rewardId, others],
    );
    return res.rows;
  }

  /** Payout transactions of all instances take turns from here until COMMIT (advisory lock). */
  async takePayoutTurn(tx: Tx): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock($1)`, [PAYOUT_LOCK]);
  }

  async recordFailure(rewardId: string, message: string): Promise<void> {
    await this.ds.query(`UPDATE rewards SET attempts = attempts + 1, last_error = $2 WHERE id = $1 AND status = 'queued'`, [rewardId, message]);
  }

  queuedOlderThan(seconds: number): Promise<{ id: string }[]> {
    return this.ds.query(
      `SELECT id FROM rewards WHERE status = 'queued' AND created_at <= now() - make_interval(secs => $1) ORDER BY created_at LIMIT 1000`,
      [seconds],
    );
  }

  // --------------------------------------------------------------------- rules

  rules(): Promise<RuleRow[]> {
    return this.ds.query(`SELECT * FROM reward_rules ORDER BY granted_by, action`);
  }

  /** One rule; in `tx` it is locked (FOR UPDATE) unless `lock` is false. */
  async rule(action: string, tx?: Tx | null, lock = true): Promise<RuleRow | undefined> {
    const sql = `SELECT * FROM reward_rules WHERE action = $1${tx && lock ? ' FOR UPDATE' : ''}`;
    const [r] = tx ? await tx.query<RuleRow>(sql, [action]) : await this.ds.query(sql, [action]);
    return r;
  }

  /** `set` are `column = $n` clauses over `params` ($1 is the action). */
  async updateRule(tx: Tx, set: string[], params: unknown[]): Promise<RuleRow> {
    return (await tx.run<RuleRow>(`UPDATE reward_rules SET ${set.join(', ')}, updated_at = now() WHERE action = $1 RETURNING *`, params)).rows[0];
  }

  async auditRule(tx: Tx, action: string, actorId: string, before: object, after: object): Promise<void> {
    await tx.query(`INSERT INTO reward_rule_audit (action, actor_id, before, after) VALUES ($1, $2, $3, $4)`, [action, actorId, JSON.stringify(before), JSON.stringify(after)]);
  }

  ruleAudit(action: string, limit: number, before?: string | null): Promise<any[]> {
    return this.ds.query(
      `SELECT a.id, a.action, a.actor_id, u.username AS actor_username, a.before, a.after, a.created_at
       FROM reward_rule_audit a LEFT JOIN users u ON u.id = a.actor_id
       WHERE a.action = $1 ${before ? 'AND a.id < $3' : ''}
       ORDER BY a.id DESC LIMIT $2`,
      before ? [action, limit, before] : [action, limit],
    );
  }

  // ----------------------------------------------------------- creator budgets

  budgets(scopes: string[]): Promise<{ scope: string; amount: string; updated_at: Date }[]> {
    return this.ds.query(`SELECT scope, amount, updated_at FROM reward_creator_budgets WHERE scope = ANY($1)`, [scopes]);
  }

  async creatorSpent(creatorId: string, day: string): Promise<string> {
    const [s] = await this.ds.query(`SELECT spent FROM reward_creator_spend WHERE creator_id = $1 AND day = $2::date`, [creatorId, day]);
    return s?.spent ?? '0';
  }

  async setBudget(scope: string, amount: bigint, actorId: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO reward_creator_budgets (scope, amount, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (scope) DO UPDATE SET amount = EXCLUDED.amount, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [scope, amount.toString(), actorId],
    );
  }

  async clearBudget(scope: string): Promise<void> {
    await this.ds.query(`DELETE FROM reward_creator_budgets WHERE scope = $1`, [scope]);
  }

  /** Viewer → creator pairs with more than `threshold` rewards between two UTC days. */
  farming(from: string, to: string, threshold: number): Promise<{ user_id: string; username: string; creator_id: string; creator_username: string; count: string; amount: string }[]> {
    return this.ds.query(
      `SELECT r.user_id, u.username, r.creator_id, c.username AS creator_username, COUNT(*) AS count, SUM(r.amount) AS amount
       FROM rewards r JOIN users u ON u.id = r.user_id JOIN users c ON c.id = r.creator_id
       WHERE r.creator_id IS NOT NULL AND r.day BETWEEN $1::date AND $2::date
       GROUP BY r.user_id, u.username, r.creator_id, c.username
       HAVING COUNT(*) > $3
       ORDER BY COUNT(*) DESC, r.user_id LIMIT 50`,
      [from, to, threshold],
    );
  }

  // ----------------------------------------------------------------- analytics

  async grantedTotals(from: string, to: string): Promise<{ count: string; amount: string; users: string }> {
    const [totals] = await this.ds.query(`SELECT COUNT(*) AS count, COALESCE(SUM(amount), 0) AS amount, COUNT(DISTINCT user_id) AS users FROM rewards WHERE ${GRANTED}`, [from, to]);
    return totals;
  }

  grantedByAction(from: string, to: string): Promise<ActionSum[]> {
    return this.ds.query(`SELECT action, COUNT(*) AS count, SUM(amount) AS amount FROM rewards WHERE ${GRANTED} GROUP BY action ORDER BY action`, [from, to]);
  }

  grantedDaily(from: string, to: string): Promise<(ActionSum & { day: string })[]> {
    return this.ds.query(
      `SELECT day::text AS day, action, COUNT(*) AS count, SUM(amount) AS amount FROM rewards WHERE ${GRANTED}
       GROUP BY day, action ORDER BY day DESC, action`,
      [from, to],
    );
  }

  topEarners(from: string, to: string): Promise<{ user_id: string; username: string; count: string; amount: string }[]> {
    return this.ds.query(
      `SELECT r.user_id, u.username, COUNT(*) AS count, SUM(r.amount) AS amount
       FROM rewards r JOIN users u ON u.id = r.user_id
       WHERE r.status IN ('queued', 'paid') AND r.day BETWEEN $1::date AND $2::date
       GROUP BY r.user_id, u.username ORDER BY SUM(r.amount) DESC, r.user_id LIMIT 10`,
      [from, to],
    );
  }
}
