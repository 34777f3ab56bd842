import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { AutoCommit, Executor, inTransaction, pgCode, Tx } from '../../core/database/transaction';
import { badRequest, conflict, DomainError, notFound } from '../../core/http/domain-error';
import { ASSET_SYMBOLS, AssetSymbol } from './assets';
import { formatAmount } from './money';
import {
  AccountRef,
  Balance,
  HoldInput,
  HoldRecord,
  NEGATIVE_ALLOWED,
  PostHoldInput,
  TransferInput,
  TransferRecord,
  accountKey,
} from './ledger.types';
import { LedgerEvents } from './ledger.events';

interface AccountRow {
  id: string;
  account_key: string;
  user_id: string | null;
}

interface HoldRow {
  id: string;
  idempotency_key: string | null;
  account_id: string;
  asset: AssetSymbol;
  amount: string;
  remaining: string;
  status: HoldRecord['status'];
  kind: string;
  reference: string | null;
  user_id: string | null;
}

export class InsufficientFundsError extends DomainError {
  constructor(asset: AssetSymbol, needed: bigint) {
    super('INSUFFICIENT_FUNDS', `Insufficient ${asset} balance: ${formatAmount(needed, asset)} ${asset} needed`, {
      asset,
      needed: formatAmount(needed, asset),
    });
  }
}

/**
 * The only way money moves. Every method runs in the caller's transaction when given one
 * (so an order fill and its settlement commit together) or in its own, is idempotent on a
 * caller-given key, and never lets an available balance go below zero: a guarded UPDATE does
 * the check and a CHECK constraint backs it. Accounts are locked in a fixed order (by key) so
 * that concurrent transfers between the same accounts cannot deadlock.
 */
@Injectable()
export class LedgerService {
  /**
   * account_key → id, filled only after the creating transaction committed. Bounded (LRU): a
   * miss costs one indexed SELECT, so the cache only saves round trips for busy accounts.
   */
  private readonly accountIds: LRUCache<string, AccountRow>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly events: LedgerEvents,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.accountIds = new LRUCache({ max: config.ledger.accountCacheSize });
  }

  // ---------------------------------------------------------------- transfers

  /**
   * Moves `amount` from one account to another. Without a caller transaction this is a
   * single autocommitted statement (the `ledger_post` function): one round trip.
   */
  async transfer(input: TransferInput, tx?: Tx | null): Promise<TransferRecord> {
    this.checkAmount(input.amount);
    if (accountKey(input.from, input.asset) === accountKey(input.to, input.asset)) {
      throw badRequest('A transfer needs two different accounts');
    }
    const exec: Executor = tx ?? new AutoCommit(this.ds);
    const [from, to] = await this.ensureAccounts(exec, [input.from, input.to], input.asset);
    const record = await this.post(exec, {
      key: input.key,
      kind: input.kind,
      from,
      to,
      asset: input.asset,
      amount: input.amount,
      release: 0n,
      holdId: null,
      reference: input.reference ?? null,
      metadata: input.metadata ?? null,
    });
    if (exec instanceof AutoCommit) await exec.flush();
    return record;
  }

  private async post(
    exec: Executor,
    p: {
      key: string;
      kind: string;
      from: AccountRow;
      to: AccountRow;
      asset: AssetSymbol;
      amount: bigint;
      release: bigint;
      holdId: string | null;
      reference: string | null;
      metadata: Record<string, unknown> | null;
    },
  ): Promise<TransferRecord> {
    let row: { transfer_id: string; created_at: Date; replayed: boolean };
    try {
      [row] = await exec.query(`SELECT * FROM ledger_post($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
        p.key,
        p.kind,
        p.from.id,
        p.to.id,
        p.asset,
        p.amount.toString(),
        p.release.toString(),
        p.holdId,
        p.reference,
        p.metadata,
      ]);
    } catch (e) {
      if (pgCode(e) === 'SC422') throw new InsufficientFundsError(p.asset, p.amount);
      if (pgCode(e) === 'SC404') throw notFound('Account not found');
      throw e;
    }
    if (row.replayed) {
      return this.replayTransfer(exec, p.key, { kind: p.kind, asset: p.asset, amount: p.amount, debitAccountId: p.from.id, creditAccountId: p.to.id });
    }
    const record: TransferRecord = {
      id: row.transfer_id,
      kind: p.kind,
      asset: p.asset,
      amount: p.amount,
      debitAccountId: p.from.id,
      creditAccountId: p.to.id,
      reference: p.reference,
      metadata: p.metadata,
      createdAt: row.created_at,
      replayed: false,
      userIds: [p.from.user_id, p.to.user_id].filter((x): x is string => !!x),
    };
    exec.afterCommit(() => this.events.transferred(record, p.from.user_id, p.to.user_id));
    return record;
  }

  // -------------------------------------------------------------------- holds

  /** Reserves `amount` of the account's available balance (a pending transfer). */
  hold(input: HoldInput, tx?: Tx | null): Promise<HoldRecord> {
    this.checkAmount(input.amount);
    return inTransaction(this.ds, tx, async (t) => {
      const [account] = await this.ensureAccounts(t, [input.account], input.asset);
      const inserted = await t.query<HoldRow>(
        `INSERT INTO ledger_holds (idempotency_key, account_id, asset, amount, remaining, kind, reference)
         VALUES ($1, $2, $3, $4, $4, $5, $6)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING *`,
        [input.key, account.id, input.asset, input.amount.toString(), input.kind, input.reference ?? null],
      );
      if (!inserted.length) {
        const existing = await this.holdByKey(t, input.key);
        if (existing.account_id !== account.id || existing.asset !== input.asset || BigInt(existing.amount) !== input.amount) {
          throw conflict('Idempotency key was already used for a different hold');
        }
        return this.toHold(existing, true);
      }
      const res = await t.run(
        `UPDATE ledger_accounts SET held = held + $2, updated_at = now()
         WHERE id = $1 AND (allow_negative OR posted - held >= $2)`,
        [account.id, input.amount.toString()],
      );
      if (res.affected !== 1) throw new InsufficientFundsError(input.asset, input.amount);
      if (account.user_id) t.afterCommit(() => this.events.balancesChanged([account.user_id!]));
      return this.toHold({ ...inserted[0], user_id: account.user_id }, false);
    });
  }

  /**
   * Posts part (or all) of a hold to any account. With `final`, whatever remains of the hold
   * afterwards is released back to the owner's available balance.
   */
  postHold(input: PostHoldInput, tx?: Tx | null): Promise<TransferRecord> {
    this.checkAmount(input.amount);
    return inTransaction(this.ds, tx, async (t) => {
      const hold = await this.lockHold(t, input.holdId);
      const [to] = await this.ensureAccounts(t, [input.to], hold.asset);
      const replay = await t.query(`SELECT 1 FROM ledger_transfers WHERE idempotency_key = $1`, [input.key]);
      if (replay.length) {
        return this.replayTransfer(t, input.key, {
          kind: input.kind,
          asset: hold.asset,
          amount: input.amount,
          debitAccountId: hold.account_id,
          creditAccountId: to.id,
        });
      }
      if (hold.status !== 'pending') throw conflict(`Hold is already ${hold.status}`);
      const remaining = BigInt(hold.remaining);
      if (input.amount > remaining) {
        throw conflict(`Cannot post ${formatAmount(input.amount, hold.asset)}: only ${formatAmount(remaining, hold.asset)} remains held`);
      }
      const left = remaining - input.amount;
      const release = input.final ? left : 0n;
      const closes = left - release === 0n;
      await t.query(
        `UPDATE ledger_holds SET remaining = $2, status = $3, updated_at = now() WHERE id = $1`,
        [hold.id, (left - release).toString(), closes ? 'posted' : 'pending'],
      );
      const from: AccountRow = { id: hold.account_id, account_key: '', user_id: hold.user_id };
      if (to.id === hold.account_id) throw badRequest('A hold cannot be posted to its own account');
      return this.post(t, {
        key: input.key,
        kind: input.kind,
        from,
        to,
        asset: hold.asset,
        amount: input.amount,
        release: input.amount + release,
        holdId: hold.id,
        reference: input.reference ?? hold.reference,
        metadata: input.metadata ?? null,
      });
    });
  }

  /** Releases what remains of a hold. Voiding a voided hold is a no-op; a fully posted one is a conflict. */
  voidHold(holdId: string, tx?: Tx | null): Promise<HoldRecord> {
    return inTransaction(this.ds, tx, async (t) => {
      const hold = await this.lockHold(t, holdId);
      if (hold.status === 'voided') return this.toHold(hold, true);
      if (hold.status === 'posted') throw conflict('Hold was already posted in full');
      await t.query(`UPDATE ledger_holds SET remaining = 0, status = 'voided', updated_at = now() WHERE id = $1`, [hold.id]);
      await t.query(`UPDATE ledger_accounts SET held = held - $2, updated_at = now() WHERE id = $1`, [hold.account_id, hold.remaining]);
      if (hold.user_id) t.afterCommit(() => this.events.balancesChanged([hold.user_id!]));
      return this.toHold({ ...hold, remaining: '0', status: 'voided' }, false);
    });
  }

  /**
   * Gives back part of a hold without moving money (an order reduced in size). When nothing
   * remains, the hold closes: `voided` if nothing was ever posted from it, `posted` otherwise.
   */
  releaseHold(holdId: string, amount: bigint, tx?: Tx | null): Promise<HoldRecord> {
    this.checkAmount(amount);
    return inTransaction(this.ds, tx, async (t) => {
      const hold = await this.lockHold(t, holdId);
      if (hold.status !== 'pending') throw conflict(`Hold is already ${hold.status}`);
      const remaining = BigInt(hold.remaining);
      if (amount > remaining) throw conflict('Cannot release more than remains held');
      const left = remaining - amount;
      const status = left > 0n ? 'pending' : BigInt(hold.amount) === remaining ? 'voided' : 'posted';
      await t.query(`UPDATE ledger_holds SET remaining = $2, status = $3, updated_at = now() WHERE id = $1`, [hold.id, left.toString(), status]);
      await t.query(`UPDATE ledger_accounts SET held = held - $2, updated_at = now() WHERE id = $1`, [hold.account_id, amount.toString()]);
      if (hold.user_id) t.afterCommit(() => this.events.balancesChanged([hold.user_id!]));
      return this.toHold({ ...hold, remaining: left.toString(), status }, false);
    });
  }

  async getHold(holdId: string, tx?: Tx | null): Promise<HoldRecord> {
    const sql = `SELECT h.*, a.user_id FROM ledger_holds h JOIN ledger_accounts a ON a.id = h.account_id WHERE h.id = $1`;
    const rows: HoldRow[] = tx ? await tx.query(sql, [holdId]) : await this.ds.query(sql, [holdId]);
    if (!rows.length) throw notFound('Hold not found');
    return this.toHold(rows[0], false);
  }

  // -------------------------------------------------------------------- reads

  async balances(userId: string, tx?: Tx | null): Promise<Balance[]> {
    const sql = `SELECT asset, posted, held FROM ledger_accounts WHERE user_id = $1`;
    const rows: { asset: AssetSymbol; posted: string; held: string }[] = tx ? await tx.query(sql, [userId]) : await this.ds.query(sql, [userId]);
    const byAsset = new Map(rows.map((r) => [r.asset, r]));
    return ASSET_SYMBOLS.map((asset) => {
      const r = byAsset.get(asset);
      const total = r ? BigInt(r.posted) : 0n;
      const held = r ? BigInt(r.held) : 0n;
      return { asset, total, held, available: total - held };
    });
  }

  async systemBalance(purpose: AccountRef & { system: string }, asset: AssetSymbol): Promise<bigint> {
    const rows = await this.ds.query(`SELECT posted FROM ledger_accounts WHERE account_key = $1`, [accountKey(purpose, asset)]);
    return rows.length ? BigInt(rows[0].posted) : 0n;
  }

  // ---------------------------------------------------------------- internals

  private checkAmount(amount: bigint) {
    if (typeof amount !== 'bigint' || amount <= 0n) {
      throw badRequest('amount must be greater than zero');
    }
  }

  private async ensureAccounts(t: Executor, refs: AccountRef[], asset: AssetSymbol): Promise<AccountRow[]> {
    const keys = refs.map((r) => accountKey(r, asset));
    // Read once: an entry may be evicted while this call awaits the database.
    const cached = keys.map((k) => this.accountIds.get(k));
    const missing = refs.filter((_, i) => !cached[i]);
    if (missing.length) {
      const values: unknown[] = [];
      const tuples = missing.map((ref, i) => {
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
      const rows = await t.query<AccountRow>(`SELECT id, account_key, user_id FROM ledger_accounts WHERE account_key = ANY($1)`, [
        missing.map((r) => accountKey(r, asset)),
      ]);
      t.afterCommit(() => rows.forEach((r) => this.accountIds.set(r.account_key, r)));
      const found = new Map(rows.map((r) => [r.account_key, r]));
      return keys.map((k, i) => cached[i] ?? found.get(k)!);
    }
    return cached as AccountRow[];
  }

  private async replayTransfer(
    t: Executor,
    key: string,
    expected: { kind: string; asset: AssetSymbol; amount: bigint; debitAccountId: string; creditAccountId: string },
  ): Promise<TransferRecord> {
    const rows = await t.query(
      `SELECT tr.*, d.user_id AS debit_user_id, c.user_id AS credit_user_id
       FROM ledger_transfers tr
       JOIN ledger_accounts d ON d.id = tr.debit_account_id
       JOIN ledger_accounts c ON c.id = tr.credit_account_id
       WHERE tr.idempotency_key = $1`,
      [key],
    );
    const r = rows[0];
    if (
      !r ||
      r.kind !== expected.kind ||
      r.asset !== expected.asset ||
      BigInt(r.amount) !== expected.amount ||
      r.debit_account_id !== expected.debitAccountId ||
      r.credit_account_id !== expected.creditAccountId
    ) {
      throw conflict('Idempotency key was already used for a different movement');
    }
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

  private async lockHold(t: Tx, holdId: string): Promise<HoldRow> {
    const rows = await t.query<HoldRow>(
      `SELECT h.*, a.user_id FROM ledger_holds h JOIN ledger_accounts a ON a.id = h.account_id WHERE h.id = $1 FOR UPDATE OF h`,
      [holdId],
    );
    if (!rows.length) throw notFound('Hold not found');
    return rows[0];
  }

  private async holdByKey(t: Tx, key: string): Promise<HoldRow> {
    const rows = await t.query<HoldRow>(
      `SELECT h.*, a.user_id FROM ledger_holds h JOIN ledger_accounts a ON a.id = h.account_id WHERE h.idempotency_key = $1`,
      [key],
    );
    return rows[0];
  }

  private toHold(r: HoldRow, replayed: boolean): HoldRecord {
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
}
