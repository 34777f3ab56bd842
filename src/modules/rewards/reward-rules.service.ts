import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Tx, withTransaction } from '../../core/database/transaction';
import { badRequest, notFound } from '../../core/http/domain-error';
import { decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { formatAmount, parseAmount } from '../ledger/money';
import { REWARD_ASSET } from './rewards.constants';
import { RewardsRepository, RuleRow } from './rewards.repository';
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

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: RewardsRepository,
  ) {}

  async list(): Promise<RuleView[]> {
    const rows = await this.repo.rules();
    return rows.map(toRuleView);
  }

  async get(action: string): Promise<RuleView> {
    const r = await this.repo.rule(action);
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
      const before = await this.repo.rule(action, tx);
      if (!before) throw notFound(`No reward rule for action "${action}"`);
      const after = await this.repo.updateRule(tx, set, params);
      const snapshot = (r: RuleRow) => {
        const { updatedAt: _u, asset: _a, ...rest } = toRuleView(r);
        return rest;
      };
      await this.repo.auditRule(tx, action, actorId, snapshot(before), snapshot(after));
      return toRuleView(after);
    });
  }

  async audit(action: string, q: { limit?: unknown; cursor?: unknown }) {
    await this.get(action);
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, (v): v is string => typeof v === 'string' && /^\d{1,19}$/.test(v));
    const rows = await this.repo.ruleAudit(action, limit + 1, cursor);
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
      const r = await this.repo.rule(action);
      if (!r) throw badRequest(`Unknown action "${action}"; see GET /api/rewards/rules`, { field: 'action' });
      k = { granted_by: r.granted_by, target_required: r.target_required };
      this.kinds.set(action, k);
    }
    return k;
  }

  async facts(action: string, tx?: Tx | null) {
    const r = await this.repo.rule(action, tx, false);
    return { action, dailyCap: r?.daily_cap ?? 0, cooldownSeconds: r?.cooldown_seconds ?? 0 };
  }
}
