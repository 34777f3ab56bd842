import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Tx, withTransaction } from '../../core/database/transaction';
import { badRequest, notFound } from '../../core/http/domain-error';
import { decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { formatAmount, parseAmount } from '../ledger/money';
import { REWARD_ASSET } from './rewards.constants';
import { big, iso } from '../../core/database/sql';
import type { UpdateRewardRuleDto } from './dto/rewards.dto';

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

export function toRuleView(r: RuleRow): RuleView {
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

const soft = (minor: bigint | string | null | undefined) => formatAmount(big(minor), REWARD_ASSET);

/** Reward rules: reads, the admin change with its audit trail, and the per-action facts the trigger needs. */
@Injectable()
export class RewardRules {
  /** `granted_by` and `target_required` never change after the migration: cached per action. */
  private readonly kinds = new Map<string, Pick<RuleRow, 'granted_by' | 'target_required'>>();

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async list(): Promise<RuleView[]> {
    const rows: RuleRow[] = await this.ds.query(`SELECT * FROM reward_rules ORDER BY granted_by, action`);
    return rows.map(toRuleView);
  }

  async get(action: string): Promise<RuleView> {
    const [r] = await this.ds.query(`SELECT * FROM reward_rules WHERE action = $1`, [action]);
    if (!r) throw notFound(`No reward rule for action "${action}"`);
    return toRuleView(r);
  }

  /** Admin change of a rule, recorded with who, when, before and after in the same transaction. */
  async update(actorId: string, action: string, dto: UpdateRewardRuleDto): Promise<RuleView> {
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

  async audit(action: string, q: { limit?: unknown; cursor?: unknown }) {
    await this.get(action);
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

  async kind(action: string) {
    let k = this.kinds.get(action);
    if (!k) {
      const [r] = await this.ds.query(`SELECT granted_by, target_required FROM reward_rules WHERE action = $1`, [action]);
      if (!r) throw badRequest(`Unknown action "${action}"; see GET /api/rewards/rules`, { field: 'action' });
      k = r as Pick<RuleRow, 'granted_by' | 'target_required'>;
      this.kinds.set(action, k);
    }
    return k;
  }

  async facts(action: string, tx?: Tx | null) {
    const sql = `SELECT daily_cap, cooldown_seconds FROM reward_rules WHERE action = $1`;
    const [r] = tx ? await tx.query(sql, [action]) : await this.ds.query(sql, [action]);
    return { action, dailyCap: r?.daily_cap ?? 0, cooldownSeconds: r?.cooldown_seconds ?? 0 };
  }
}
