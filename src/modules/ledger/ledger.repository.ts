import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LRUCache } from 'lru-cache';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import type { Executor, Tx } from '../../core/database/transaction';
import type { AssetSymbol } from './assets';
import { AccountRef, accountKey, HoldRecord, NEGATIVE_ALLOWED, SystemPurpose, TransferRecord } from './ledger.types';

export interface AccountRow {
  id: string;
  account_key: string;
  user_id: string | null;
}

export interface HoldRow {
  id: string;
  idempotency_key: string | null;
  account_id: string;
  asset: AssetSymbol;
  amount: string;
  remaining: string;
  status: 'pending' | 'posted' | 'voided';
  kind: string;
  reference: string | null;
  user_id: string | null;
}

/** What `LedgerService.lockAvailable` locks: users' accounts in some assets, plus system accounts. */
export interface LockRequest {
  userIds: string[];
  assets: AssetSymbol[];
  systemAccounts?: { system: SystemPurpose; asset: AssetSymbol }[];
  /** false: take only free rows; if any is locked by another transaction, lock nothing and return null. */
  wait: boolean;
}

/** One row of a user's account history (an entry with its transfer and counterparty). */
export interface HistoryRow {
  entryId: string;
  transferId: string;
  kind: string;
  asset: AssetSymbol;
  amount: bigint;
  balanceAfter: bigint;
  counterpartyId: string | null;
  reference: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: Date;
}

/** An account as `ledger_post_batch` resolves (and creates) it: key, owner, purpose, may go negative. */
export interface AccountSpecJson {
  k: string;
  u?: string;
  p: string;
  n?: true;
}

/** One item of `ledger_post_batch` (see migrations/1764231600000-LedgerBatch.ts). */
export interface BatchItemJson {
  g: number;
  k: string;
  t: string;
  a: AssetSymbol;
  m: string;
  d?: AccountSpecJson;
  c: AccountSpecJson;
  h?: string;
  f?: boolean;
  r?: string | null;
  rp?: 1;
  x?: Record<string, unknown> | null;
}

export interface BatchRow {
  o_i: number;
  o_id: string | null;
  o_created: Date | null;
  o_replayed: boolean;
  o_err: string | null;
  o_debit: string | null;
  o_credit: string | null;
  o_debit_user: string | null;
  o_credit_user: string | null;
}

export function accountSpec(ref: AccountRef, asset: AssetSymbol): AccountSpecJson {
  if ('userId' in ref) return { k: accountKey(ref, asset), u: ref.userId, p: 'wallet' };
  return NEGATIVE_ALLOWED.has(ref.system) ? { k: accountKey(ref, asset), p: ref.system, n: true } : { k: accountKey(ref, asset), p: ref.system };
}

const HOLD_SELECT = `SELECT h.*, a.user_id FROM ledger_holds h JOIN ledger_accounts a ON a.id = h.account_id`;

/** Every SQL statement on the ledger tables. Only the ledger module uses it. */
@Injectable()
export class LedgerRepository {
  /**
   * account_key → id, filled only after the creating transaction committed. Bounded (LRU): a
   * miss costs one indexed SELECT, so the cache only saves round trips for busy accounts.
   */
  private readonly accountIds: LRUCache<string, AccountRow>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.accountIds = new LRUCache({ max: config.ledger.accountCacheSize });
  }

  /** The caller's transaction, or a plain query on the pool. */
  private exec(tx?: Executor | null): { query<T = any>(sql: string, params?: unknown[]): Promise<T[]> } {
    return tx ?? { query: (sql, params) => this.ds.query(sql, params) };
  }

  // ------------------------------------------------------------------ accounts

  /** The accounts of `refs` in `asset`, created on first use. */
  async ensureAccounts(t: Executor, refs: AccountRef[], asset: AssetSymbol): Promise<AccountRow[]> {
    const keys = refs.map((r) => accountKey(r, asset));
    // Read once: an entry may be evicted while this call awaits the database.
    const cached = keys.map((k) => this.accountIds.get(k));
    const missing = refs.filter((_, i) => !cached[i]);
    if (!missing.length) return cached as AccountRow[];
    const rows = await this.createAccounts(t, missing, asset);
    t.afterCommit(() => rows.forEach((r) => this.accountIds.set(r.account_key, r)));
    const found = new Map(rows.map((r) => [r.account_key, r]));
    return keys.map((k, i) => cached[i] ?? found.get(k)!);
  }

  private async createAccounts(t: Executor, refs: AccountRef[], asset: AssetSymbol): Promise<AccountRow[]> {
    const values: unknown[] = [];
    const tuples = refs.map((ref, i) => {
      const isUser = 'userId' in ref;
      values.push(accountKey(ref, asset), isUser ? 'user' : 'system', isUser ? ref.userId : null, isUser ? 'wallet' : ref.system, asset, !isUser && NEGATIVE_ALLOWED.has(ref.system));
      const o = i * 6;
      return `($${o + 1}, $${o + 2}, $${o + 3}::uuid, $${o + 4}, $${o + 5}, $${o + 6})`;
    });
    await t.query(
      `INSERT INTO ledger_accounts (account_key, owner_type, user_id, purpose, asset, allow_negative)
       VALUES ${tuples.join(', ')} ON CONFLICT (account_key) DO NOTHING`,
      values,
    );
    return this.accountsByKey(t, refs.map((r) => accountKey(r, asset)));
  }

  accountsByKey(t: Executor | null, keys: string[]): Promise<AccountRow[]> {
    return this.exec(t).query<AccountRow>(`SELECT id, account_key, user_id FROM ledger_accounts WHERE account_key = ANY($1)`, [keys]);
  }

  /**
   * Locks the accounts in ONE statement, in id order (the order ledger_post itself locks in),
   * and returns their available balances keyed `${userId}:${asset}`. Only a row lock: balances
   * still change through LedgerService alone.
   */
  async lockAvailable(tx: Tx, req: LockRequest): Promise<Map<string, bigint> | null> {
    const systemKeys = (req.systemAccounts ?? []).map((s) => accountKey({ system: s.system }, s.asset));
    const params = [[...new Set(req.userIds)], req.assets, systemKeys];
    const where = `(user_id = ANY($1::uuid[]) AND asset = ANY($2::text[])) OR account_key = ANY($3::text[])`;
    type Row = { user_id: string | null; asset: string | null; available: string | null; wanted: number | null };
    let rows: Row[];
    if (req.wait) {
      rows = await tx.query(`SELECT user_id, asset, (posted - held)::text AS available FROM ledger_accounts WHERE ${where} ORDER BY id FOR UPDATE`, params);
    } else {
      rows = await tx.query(
        `WITH w AS (SELECT id FROM ledger_accounts WHERE ${where}),
              g AS (SELECT a.user_id, a.asset, (a.posted - a.held)::text AS available FROM ledger_accounts a
                    WHERE a.id IN (SELECT id FROM w) ORDER BY a.id FOR UPDATE SKIP LOCKED)
         SELECT NULL::uuid AS user_id, NULL::text AS asset, NULL::text AS available, (SELECT count(*) FROM w)::int AS wanted
         UNION ALL SELECT user_id, asset, available, NULL FROM g`,
        params,
      );
      const wanted = rows.find((r) => r.wanted !== null)!.wanted!;
      rows = rows.filter((r) => r.wanted === null);
      if (rows.length < wanted) return null;
    }
    return new Map(rows.filter((r) => r.user_id).map((r) => [`${r.user_id}:${r.asset}`, BigInt(r.available!)]));
  }

  balances(userId: string, tx?: Executor | null): Promise<{ asset: AssetSymbol; posted: string; held: string }[]> {
    return this.exec(tx).query<{ asset: AssetSymbol; posted: string; held: string }>(`SELECT asset, posted, held FROM ledger_accounts WHERE user_id = $1`, [userId]);
  }

  /** Every account of these users (for live balance updates). */
  balancesOf(userIds: string[]): Promise<{ user_id: string; asset: AssetSymbol; posted: string; held: string }[]> {
    return this.ds.query(`SELECT user_id, asset, posted, held FROM ledger_accounts WHERE user_id = ANY($1)`, [userIds]);
  }

  /** A system account's posted and held amounts and how much was ever credited to it with `fundingKind`. */
  async systemAccount(key: string, fundingKind?: string): Promise<{ posted: bigint; held: bigint; funded: bigint } | null> {
    const [acct] = await this.ds.query(`SELECT id, posted, held FROM ledger_accounts WHERE account_key = $1`, [key]);
    if (!acct) return null;
    const funded = fundingKind
      ? (await this.ds.query(`SELECT COALESCE(SUM(amount), 0)::text AS s FROM ledger_transfers WHERE credit_account_id = $1 AND kind = $2`, [acct.id, fundingKind]))[0].s
      : '0';
    return { posted: BigInt(acct.posted), held: BigInt(acct.held), funded: BigInt(funded) };
  }

  // ------------------------------------------------------------------- history

  /** A page of a user's entries, newest first, strictly before the entry id `before`. */
  async history(userId: string, q: { asset?: AssetSymbol; before?: string | null; limit: number }): Promise<HistoryRow[]> {
    const params: unknown[] = [userId, q.limit];
    let where = `a.user_id = $1`;
    if (q.asset) {
      params.push(q.asset);
      where += ` AND e.asset = $${params.length}`;
    }
    if (q.before) {
      params.push(q.before);
      where += ` AND e.id < $${params.length}`;
    }
    const rows = await this.ds.query(
      `SELECT e.id AS entry_id, t.id, t.kind, e.asset, e.amount, e.balance_after, ca.user_id AS counterparty_id,
              t.reference, t.metadata, e.created_at
       FROM ledger_entries e
       JOIN ledger_accounts a ON a.id = e.account_id
       JOIN ledger_transfers t ON t.id = e.transfer_id
       JOIN ledger_accounts ca ON ca.id = e.counterparty_account_id
       WHERE ${where}
       ORDER BY e.id DESC
       LIMIT $2`,
      params,
    );
    return rows.map((r: any) => ({
      entryId: String(r.entry_id),
      transferId: r.id,
      kind: r.kind,
      asset: r.asset,
      amount: BigInt(r.amount),
      balanceAfter: BigInt(r.balance_after),
      counterpartyId: r.counterparty_id,
      reference: r.reference,
      metadata: r.metadata,
      createdAt: new Date(r.created_at),
    }));
  }

  // ----------------------------------------------------------------- transfers

  /** Many transfers in one statement (`ledger_post_batch`): one row per item, in item order. */
  async postBatch(exec: Executor, items: BatchItemJson[]): Promise<BatchRow[]> {
    const rows = await exec.query<BatchRow>(
      `SELECT o_i, o_id, o_created, o_replayed, o_err, o_debit, o_credit, o_debit_user, o_credit_user FROM ledger_post_batch($1::jsonb)`,
      [JSON.stringify(items)],
    );
    return rows.sort((a, b) => a.o_i - b.o_i);
  }

  post(exec: Executor, args: unknown[]): Promise<{ transfer_id: string; created_at: Date; replayed: boolean }[]> {
    return exec.query(`SELECT * FROM ledger_post($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, args);
  }

  transferExists(t: Executor, key: string): Promise<unknown[]> {
    return t.query(`SELECT 1 FROM ledger_transfers WHERE idempotency_key = $1`, [key]);
  }

  /** The transfer recorded under an idempotency key, as a replay. */
  async transferByKey(t: Executor, key: string): Promise<TransferRecord | undefined> {
    const rows = await t.query(
      `SELECT tr.*, d.user_id AS debit_user_id, c.user_id AS credit_user_id
       FROM ledger_transfers tr
       JOIN ledger_accounts d ON d.id = tr.debit_account_id
       JOIN ledger_accounts c ON c.id = tr.credit_account_id
       WHERE tr.idempotency_key = $1`,
      [key],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: r.id,
      kind: r.kind,
      asset: r.asset,
      amount: BigInt(r.amount),
      debitAccountId: r.debit_account_id,
      creditAccountId: r.credit_account_id,
      reference: r.reference,
      metadata: r.metadata,
      createdAt: r.created_at,
      replayed: true,
      userIds: [r.debit_user_id, r.credit_user_id].filter(Boolean),
    };
  }

  // --------------------------------------------------------------------- holds

  /** A hold in one statement (`ledger_hold`): the row, or why it was refused. */
  async holdOnce(
    exec: Executor,
    key: string,
    kind: string,
    account: AccountSpecJson,
    asset: AssetSymbol,
    amount: bigint,
    reference: string | null,
  ): Promise<{ err: string | null; replayed: boolean; row: HoldRow | null }> {
    const [r] = await exec.query(
      `SELECT o_err, o_replayed, o_user, (o_hold).* FROM ledger_hold($1, $2, $3::jsonb, $4, $5, $6)`,
      [key, kind, JSON.stringify(account), asset, amount.toString(), reference],
    );
    if (r.o_err) return { err: r.o_err, replayed: false, row: null };
    const { o_err: _e, o_replayed, o_user, ...hold } = r;
    return { err: null, replayed: o_replayed, row: { ...hold, user_id: o_user } as HoldRow };
  }

  insertHold(t: Tx, key: string, accountId: string, asset: AssetSymbol, amount: bigint, kind: string, reference: string | null): Promise<HoldRow[]> {
    return t.query<HoldRow>(
      `INSERT INTO ledger_holds (idempotency_key, account_id, asset, amount, remaining, kind, reference)
       VALUES ($1, $2, $3, $4, $4, $5, $6)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING *`,
      [key, accountId, asset, amount.toString(), kind, reference],
    );
  }

  /** Adds to the account's held amount if its available balance covers it; false if not. */
  async reserve(t: Tx, accountId: string, amount: bigint): Promise<boolean> {
    const res = await t.run(
      `UPDATE ledger_accounts SET held = held + $2, updated_at = now()
       WHERE id = $1 AND (allow_negative OR posted - held >= $2)`,
      [accountId, amount.toString()],
    );
    return res.affected === 1;
  }

  async unreserve(t: Tx, accountId: string, amount: bigint | string): Promise<void> {
    await t.query(`UPDATE ledger_accounts SET held = held - $2, updated_at = now() WHERE id = $1`, [accountId, amount.toString()]);
  }

  async setHold(t: Tx, holdId: string, remaining: bigint, status: HoldRow['status']): Promise<void> {
    await t.query(`UPDATE ledger_holds SET remaining = $2, status = $3, updated_at = now() WHERE id = $1`, [holdId, remaining.toString(), status]);
  }

  async hold(holdId: string, tx?: Executor | null, lock = false): Promise<HoldRow | undefined> {
    const rows = await this.exec(tx).query<HoldRow>(`${HOLD_SELECT} WHERE h.id = $1${lock ? ' FOR UPDATE OF h' : ''}`, [holdId]);
    return rows[0];
  }

  async holdByKey(t: Tx, key: string): Promise<HoldRow> {
    const rows = await t.query<HoldRow>(`${HOLD_SELECT} WHERE h.idempotency_key = $1`, [key]);
    return rows[0];
  }
}

export function toHoldRecord(r: HoldRow, replayed: boolean): HoldRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    asset: r.asset,
    amount: BigInt(r.amount),
    remaining: BigInt(r.remaining),
    status: r.status,
    kind: r.kind,
    reference: r.reference,
    replayed,
    userId: r.user_id,
  };
}
