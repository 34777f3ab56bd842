import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Executor, Tx } from '../../core/database/transaction';
import type { AssetSymbol } from '../ledger/assets';
import type { LadderStep, Metric } from './creator.rules';
import type { Totals } from './stats.repository';

export interface CardRow {
  id: string;
  username: string;
  followers: number | string;
  following: boolean;
}

export interface TipRow {
  id: string;
  creator_id: string;
  from_user_id: string;
  from_username: string;
  asset: AssetSymbol;
  amount: string;
  fee: string;
  message: string | null;
  video_id: string | null;
  created_at: Date;
  cursor_at?: string;
}

export interface MilestoneRow {
  id: string;
  creator_id: string;
  metric: Metric;
  asset: AssetSymbol | '';
  target: string;
  custom: boolean;
  achieved_at: Date | null;
}

const TIP_SELECT = `SELECT t.id, t.creator_id, t.from_user_id, u.username AS from_username, t.asset, t.amount, t.fee, t.message, t.video_id, t.created_at
  FROM creator_tips t JOIN users u ON u.id = t.from_user_id`;

/** The creator module's SQL. Methods that take an executor join the caller's transaction. */
@Injectable()
export class CreatorRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private q<T = any>(sql: string, params: unknown[], ex?: Executor | null): Promise<T[]> {
    return ex ? ex.query<T>(sql, params) : this.ds.query(sql, params);
  }

  // ------------------------------------------------------------------ creators and follows

  async isCreator(userId: string, ex?: Executor | null): Promise<boolean> {
    const rows = await this.q(`SELECT 1 FROM users WHERE id = $1 AND 'creator' = ANY(roles)`, [userId], ex);
    return rows.length > 0;
  }

  async card(creatorId: string, viewerId: string, ex?: Executor | null): Promise<CardRow | null> {
    const [row] = await this.q<CardRow>(
      `SELECT u.id, u.username, COALESCE(c.followers, 0) AS followers,
              EXISTS (SELECT 1 FROM creator_follows f WHERE f.creator_id = u.id AND f.follower_id = $2) AS following
       FROM users u LEFT JOIN creator_counters c ON c.creator_id = u.id
       WHERE u.id = $1 AND 'creator' = ANY(u.roles)`,
      [creatorId, viewerId],
      ex,
    );
    return row ?? null;
  }

  /** Most followed first; the cursor is (followers, id) of the last row. */
  listCreators(viewerId: string, limit: number, after?: [number, string]): Promise<CardRow[]> {
    const params: unknown[] = [viewerId, limit + 1];
    let where = `'creator' = ANY(u.roles)`;
    if (after) {
      params.push(after[0], after[1]);
      where += ` AND (COALESCE(c.followers, 0) < $3 OR (COALESCE(c.followers, 0) = $3 AND u.id > $4::uuid))`;
    }
    return this.ds.query(
      `SELECT u.id, u.username, COALESCE(c.followers, 0) AS followers,
              EXISTS (SELECT 1 FROM creator_follows f WHERE f.creator_id = u.id AND f.follower_id = $1) AS following
       FROM users u LEFT JOIN creator_counters c ON c.creator_id = u.id
       WHERE ${where} ORDER BY COALESCE(c.followers, 0) DESC, u.id LIMIT $2`,
      params,
    );
  }

  /** True when this call created the follow (a repeat changes nothing). */
  async follow(tx: Tx, creatorId: string, fanId: string): Promise<boolean> {
    const ins = await tx.query(
      `INSERT INTO creator_follows (creator_id, follower_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING creator_id`,
      [creatorId, fanId],
    );
    if (!ins.length) return false;
    await this.followChanged(tx, creatorId, fanId, 1);
    return true;
  }

  /** True when this call removed the follow. */
  async unfollow(tx: Tx, creatorId: string, fanId: string): Promise<boolean> {
    // As a CTE so the driver returns the rows (TypeORM answers a bare DELETE with [rows, count]).
    const del = await tx.query(`WITH d AS (DELETE FROM creator_follows WHERE creator_id = $1 AND follower_id = $2 RETURNING creator_id) SELECT * FROM d`, [
      creatorId,
      fanId,
    ]);
    if (!del.length) return false;
    await this.followChanged(tx, creatorId, fanId, -1);
    return true;
  }

  private async followChanged(tx: Tx, creatorId: string, fanId: string, delta: 1 | -1) {
    await tx.query(`INSERT INTO creator_follow_events (creator_id, follower_id, delta) VALUES ($1, $2, $3)`, [creatorId, fanId, delta]);
    await tx.query(
      `INSERT INTO creator_counters (creator_id, followers) VALUES ($1, GREATEST($2::int, 0))
       ON CONFLICT (creator_id) DO UPDATE SET followers = creator_counters.followers + $2::int, updated_at = now()`,
      [creatorId, delta],
    );
  }

  // ------------------------------------------------------------------ tips

  async videoCreator(videoId: string): Promise<string | null> {
    const [v] = await this.ds.query(`SELECT creator_id FROM videos WHERE id = $1`, [videoId]);
    return v?.creator_id ?? null;
  }

  /** Inserts the tip, or returns null when its creation key was used before. */
  async insertTip(
    tx: Tx,
    t: { creatorId: string; fromUserId: string; asset: AssetSymbol; amount: bigint; fee: bigint; message: string | null; videoId: string | null; creationKey: string | null },
  ): Promise<string | null> {
    const [row] = await tx.query(
      `INSERT INTO creator_tips (creator_id, from_user_id, asset, amount, fee, message, video_id, creation_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (creation_key) DO NOTHING RETURNING id`,
      [t.creatorId, t.fromUserId, t.asset, t.amount.toString(), t.fee.toString(), t.message, t.videoId, t.creationKey],
    );
    return row?.id ?? null;
  }

  async setTipTransfers(tx: Tx, tipId: string, transferId: string, feeTransferId: string | null) {
    await tx.query(`UPDATE creator_tips SET transfer_id = $2, fee_transfer_id = $3 WHERE id = $1`, [tipId, transferId, feeTransferId]);
  }

  async tipByKey(tx: Tx, creationKey: string): Promise<TipRow | null> {
    const [row] = await tx.query<TipRow>(`${TIP_SELECT} WHERE t.creation_key = $1`, [creationKey]);
    return row ?? null;
  }

  async tip(id: string, ex?: Executor | null): Promise<TipRow> {
    const [row] = await this.q<TipRow>(`${TIP_SELECT} WHERE t.id = $1`, [id], ex);
    return row;
  }

  /** Newest first; the cursor is (created_at, id) of the last row. */
  listTips(creatorId: string, limit: number, after?: [string, string]): Promise<TipRow[]> {
    const params: unknown[] = [creatorId, limit + 1];
    let where = 't.creator_id = $1';
    if (after) {
      params.push(after[0], after[1]);
      where += ` AND (t.created_at, t.id) < ($3::timestamptz, $4::uuid)`;
    }
    return this.ds.query(`${TIP_SELECT.replace('SELECT t.id', 'SELECT t.created_at::text AS cursor_at, t.id')} WHERE ${where} ORDER BY t.created_at DESC, t.id DESC LIMIT $2`, params);
  }

  // ------------------------------------------------------------------ milestones

  async ensureLadder(creatorId: string, steps: readonly LadderStep[]): Promise<void> {
    await this.ds.query(
      `INSERT INTO creator_milestones (creator_id, metric, asset, target, custom)
       SELECT $1, m, a, t::numeric, false FROM unnest($2::text[], $3::text[], $4::text[]) AS s(m, a, t)
       ON CONFLICT (creator_id, metric, asset, target) DO NOTHING`,
      [creatorId, steps.map((s) => s.metric), steps.map((s) => s.asset), steps.map((s) => s.target.toString())],
    );
  }

  async customCount(creatorId: string): Promise<number> {
    const [r] = await this.ds.query(`SELECT COUNT(*)::int AS n FROM creator_milestones WHERE creator_id = $1 AND custom`, [creatorId]);
    return r.n;
  }

  /** The new custom milestone, or the existing one with the same metric, asset and target. */
  async addMilestone(creatorId: string, step: LadderStep): Promise<MilestoneRow> {
    const [row] = await this.ds.query(
      `WITH ins AS (
         INSERT INTO creator_milestones (creator_id, metric, asset, target, custom) VALUES ($1, $2, $3, $4, true)
         ON CONFLICT (creator_id, metric, asset, target) DO NOTHING RETURNING *)
       SELECT * FROM ins
       UNION ALL
       SELECT * FROM creator_milestones WHERE creator_id = $1 AND metric = $2 AND asset = $3 AND target = $4 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [creatorId, step.metric, step.asset, step.target.toString()],
    );
    return row;
  }

  milestones(creatorId: string): Promise<MilestoneRow[]> {
    return this.ds.query(
      `SELECT * FROM creator_milestones WHERE creator_id = $1
       ORDER BY array_position(ARRAY['followers','views','watch_hours','earnings']::text[], metric::text), asset, target`,
      [creatorId],
    );
  }

  /**
   * Marks every open milestone the figures reach as achieved, exactly once: the guard
   * `achieved_at IS NULL` is re-checked under the row lock, so of two concurrent calls that
   * both see a target crossed, only one gets the row back.
   */
  achieve(creatorId: string, t: Totals): Promise<MilestoneRow[]> {
    const earnings = Object.fromEntries([...t.earnings.entries()].map(([a, v]) => [a, v.toString()]));
    return this.ds.query(
      `WITH done AS (
         UPDATE creator_milestones SET achieved_at = clock_timestamp()
         WHERE creator_id = $1 AND achieved_at IS NULL AND (
               (metric = 'followers' AND target <= $2)
            OR (metric = 'views' AND target <= $3)
            OR (metric = 'watch_hours' AND target <= $4)
            OR (metric = 'earnings' AND target <= COALESCE(($5::jsonb ->> asset)::numeric, 0)))
         RETURNING *)
       SELECT * FROM done`,
      [creatorId, t.followers, t.views, Math.floor(t.watchedMs / 1000), JSON.stringify(earnings)],
    );
  }
}
