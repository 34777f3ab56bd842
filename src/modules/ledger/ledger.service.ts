import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AccountRow, BatchItemJson, HistoryRow, HoldRow, LedgerRepository, LockRequest, accountSpec, toHoldRecord } from './ledger.repository';
import { GroupCommitQueue, batchError, batchRecord, toBatchItem } from './ledger-batch';
import { InsufficientFundsError } from './ledger-errors';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { AutoCommit, Executor, inTransaction, pgCode, Tx } from '../../core/database/transaction';
import { badRequest, conflict, notFound } from '../../core/http/domain-error';
import { ASSET_SYMBOLS, AssetSymbol } from './assets';
import { formatAmount } from './money';
import {
  AccountRef,
  Balance,
  HoldInput,
  HoldRecord,
  PostHoldInput,
  PostItem,
  PostOutcome,
  SystemPurpose,
  TransferInput,
  TransferRecord,
  accountKey,
} from './ledger.types';
import { LedgerEvents } from './ledger.events';

export { InsufficientFundsError } from './ledger-errors';

/**
 * The only way money moves. Every method runs in the caller's transaction when given one
 * (so an order fill and its settlement commit together) or in its own, is idempotent on a
 * caller-given key, and never lets an available balance go below zero: a guarded UPDATE does
 * the check and a CHECK constraint backs it. Accounts are locked in a fixed order (by key) so
 * that concurrent transfers between the same accounts cannot deadlock.
 */

/** Key, kind and reference lengths the ledger's columns take (checked before a batch, so one bad item cannot abort it). */
const MAX_KEY = 200;
const MAX_KIND = 40;
const MAX_REFERENCE = 200;

@Injectable()
export class LedgerService {
  /** Batch statements sent, and the legs and groups they carried (tests and metrics: proves batching). */
  readonly batchStats = { statements: 0, legs: 0, groups: 0, fallbacks: 0 };
  /** Group commit of the transfers made without a caller transaction (see GroupCommitQueue). */
  private readonly queue: GroupCommitQueue;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: LedgerRepository,
    private readonly events: LedgerEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.queue = new GroupCommitQueue(config.ledger, this.batchStats, async (groups) => {
      const exec = new AutoCommit(this.ds);
      const outcomes = await this.runBatch(exec, groups);
      await exec.flush();
      return outcomes;
    });
  }

  /** Whether transfers, payouts and fills go through `ledger_post_batch` (LEDGER_GROUP_COMMIT). */
  get batching(): boolean {
    return this.config.ledger.groupCommit;
  }

  // ---------------------------------------------------------------- transfers

  /**
   * Moves `amount` from one account to another. Without a caller transaction this is one
   * autocommitted statement: with group commit on, shared with the transfers that arrive
   * meanwhile (`ledger_post_batch`), else its own `ledger_post` call.
   */
  async transfer(input: TransferInput, tx?: Tx | null): Promise<TransferRecord> {
    this.checkTransfer(input);
    if (!tx && this.batching) return (await this.queue.submit([input]))[0];
    const exec: Executor = tx ?? new AutoCommit(this.ds);
    const [from, to] = await this.repo.ensureAccounts(exec, [input.from, input.to], input.asset);
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

  /**
   * Transfers that commit together or not at all (a linked group: e.g. a transfer and its fee).
   * Without a caller transaction and with group commit on, the group rides the shared batch
   * statement; otherwise it runs in `tx` (or a transaction of its own).
   */
  async transferLinked(inputs: PostItem[], tx?: Tx | null): Promise<TransferRecord[]> {
    inputs.forEach((i) => this.checkItem(i));
    if (this.batching) {
      if (!tx) return this.queue.submit(inputs);
      const [o] = await this.runBatch(tx, [inputs]);
      if (!o.ok) throw o.error;
      return o.transfers;
    }
    return inTransaction(this.ds, tx, async (t) => {
      const out: TransferRecord[] = [];
      for (const i of inputs) {
        if ('holdId' in i) out.push(await this.postHold({ ...i, reference: i.referencePrevious ? out[out.length - 1].id : i.reference }, t));
        else out.push(await this.transfer({ ...i, reference: i.referencePrevious ? out[out.length - 1].id : i.reference }, t));
      }
      return out;
    });
  }

  /**
   * Posts many linked groups (each an array of legs: plain transfers or postings from holds) in
   * ONE statement. Each group is atomic on its own and idempotent per leg key; a refused group
   * (insufficient funds, missing account, closed hold, key reused for another movement) posts
   * nothing and comes back as `{ ok: false, error }` without failing its neighbours. In `tx`
   * the postings commit with the caller's transaction (after-commit events then); without one
   * the statement autocommits. Input that is malformed (non-positive amount, same account,
   * over-long key) throws before anything is sent.
   */
  async postMany(groups: PostItem[][], tx?: Tx | null): Promise<PostOutcome[]> {
    groups.forEach((g) => g.forEach((i) => this.checkItem(i)));
    if (!groups.length) return [];
    if (tx) return this.runBatch(tx, groups);
    const exec = new AutoCommit(this.ds);
    const out = await this.runBatch(exec, groups);
    await exec.flush();
    return out;
  }

  private async runBatch(exec: Executor, groups: PostItem[][]): Promise<PostOutcome[]> {
    const items: BatchItemJson[] = [];
    groups.forEach((g, gi) => g.forEach((it) => items.push(toBatchItem(it, gi))));
    this.batchStats.statements += 1;
    this.batchStats.legs += items.length;
    this.batchStats.groups += groups.length;
    const rows = await this.repo.postBatch(exec, items);
    if (rows.length !== items.length) throw new Error(`ledger_post_batch returned ${rows.length} rows for ${items.length} items`);
    let at = 0;
    return groups.map((g) => {
      const mine = rows.slice(at, at + g.length);
      at += g.length;
      const failed = mine.find((r) => r.o_err && r.o_err !== 'linked');
      if (failed) return { ok: false as const, error: batchError(failed, g[mine.indexOf(failed)]) };
      const transfers = mine.map((r, i) => {
        const t = batchRecord(r, g[i], i > 0 ? mine[i - 1].o_id : null);
        if (!t.replayed) exec.afterCommit(() => this.events.transferred(t, r.o_debit_user, r.o_credit_user));
        return t;
      });
      return { ok: true as const, transfers };
    });
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
      [row] = await this.repo.post(exec, [
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
  async hold(input: HoldInput, tx?: Tx | null): Promise<HoldRecord> {
    this.checkAmount(input.amount);
    if (this.batching) {
      // One statement (ledger_hold) instead of three round trips.
      if (input.key.length > MAX_KEY) throw badRequest(`A ledger key is 1-${MAX_KEY} characters`);
      const exec: Executor = tx ?? new AutoCommit(this.ds);
      const r = await this.repo.holdOnce(exec, input.key, input.kind, accountSpec(input.account, input.asset), input.asset, input.amount, input.reference ?? null);
      if (r.err === 'insufficient_funds') throw new InsufficientFundsError(input.asset, input.amount);
      if (r.err === 'key_reused') throw conflict('Idempotency key was already used for a different hold');
      if (r.err === 'account_not_found') throw notFound('Account not found');
      if (r.err || !r.row) throw new Error(`ledger_hold: unknown refusal ${r.err}`);
      const row = r.row;
      if (!r.replayed && row.user_id) exec.afterCommit(() => this.events.balancesChanged([row.user_id!]));
      if (exec instanceof AutoCommit) await exec.flush();
      return toHoldRecord(row, r.replayed);
    }
    return inTransaction(this.ds, tx, async (t) => {
      const [account] = await this.repo.ensureAccounts(t, [input.account], input.asset);
      const inserted = await this.repo.insertHold(t, input.key, account.id, input.asset, input.amount, input.kind, input.reference ?? null);
      if (!inserted.length) {
        const existing = await this.repo.holdByKey(t, input.key);
        if (existing.account_id !== account.id || existing.asset !== input.asset || BigInt(existing.amount) !== input.amount) {
          throw conflict('Idempotency key was already used for a different hold');
        }
        return toHoldRecord(existing, true);
      }
      if (!(await this.repo.reserve(t, account.id, input.amount))) throw new InsufficientFundsError(input.asset, input.amount);
      if (account.user_id) t.afterCommit(() => this.events.balancesChanged([account.user_id!]));
      return toHoldRecord({ ...inserted[0], user_id: account.user_id }, false);
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
      const [to] = await this.repo.ensureAccounts(t, [input.to], hold.asset);
      const replay = await this.repo.transferExists(t, input.key);
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
      await this.repo.setHold(t, hold.id, left - release, closes ? 'posted' : 'pending');
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
      if (hold.status === 'voided') return toHoldRecord(hold, true);
      if (hold.status === 'posted') throw conflict('Hold was already posted in full');
      await this.repo.setHold(t, hold.id, 0n, 'voided');
      await this.repo.unreserve(t, hold.account_id, hold.remaining);
      if (hold.user_id) t.afterCommit(() => this.events.balancesChanged([hold.user_id!]));
      return toHoldRecord({ ...hold, remaining: '0', status: 'voided' }, false);
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
      await this.repo.setHold(t, hold.id, left, status);
      await this.repo.unreserve(t, hold.account_id, amount);
      if (hold.user_id) t.afterCommit(() => this.events.balancesChanged([hold.user_id!]));
      return toHoldRecord({ ...hold, remaining: left.toString(), status }, false);
    });
  }

  async getHold(holdId: string, tx?: Tx | null): Promise<HoldRecord> {
    const row = await this.repo.hold(holdId, tx);
    if (!row) throw notFound('Hold not found');
    return toHoldRecord(row, false);
  }

  // -------------------------------------------------------------------- reads

  async balances(userId: string, tx?: Tx | null): Promise<Balance[]> {
    const rows = await this.repo.balances(userId, tx);
    const byAsset = new Map(rows.map((r) => [r.asset, r]));
    return ASSET_SYMBOLS.map((asset) => {
      const r = byAsset.get(asset);
      const total = r ? BigInt(r.posted) : 0n;
      const held = r ? BigInt(r.held) : 0n;
      return { asset, total, held, available: total - held };
    });
  }

  async systemBalance(purpose: AccountRef & { system: string }, asset: AssetSymbol): Promise<bigint> {
    const acct = await this.repo.systemAccount(accountKey(purpose, asset));
    return acct?.posted ?? 0n;
  }

  /**
   * A system account (e.g. the rewards pool): posted, available (posted − held), and the sum
   * ever credited to it by transfers of `fundingKind` (zeros when the account does not exist yet).
   */
  async systemAccount(system: SystemPurpose, asset: AssetSymbol, fundingKind?: string): Promise<{ posted: bigint; available: bigint; funded: bigint }> {
    const acct = await this.repo.systemAccount(accountKey({ system }, asset), fundingKind);
    return acct ? { posted: acct.posted, available: acct.posted - acct.held, funded: acct.funded } : { posted: 0n, available: 0n, funded: 0n };
  }

  /**
   * Locks, in the caller's transaction, the accounts of `userIds` in `assets` plus the given
   * system accounts, in one statement and in the ledger's own lock order (by account id), so
   * writers that will settle between the same users queue instead of deadlocking. Returns the
   * available balances keyed `${userId}:${asset}` (exact until commit). With `wait: false`
   * it takes only free rows and returns null if any account is locked by someone else.
   */
  lockAvailable(tx: Tx, req: LockRequest): Promise<Map<string, bigint> | null> {
    return this.repo.lockAvailable(tx, req);
  }

  /**
   * Sorts items by the ledger lock order of the user accounts they will touch (accounts that do
   * not exist yet last), so a batch of transfers locks in the same order a single transfer does.
   */
  async inLockOrder<T>(items: T[], userOf: (item: T) => string, asset: AssetSymbol, tx?: Tx | null): Promise<T[]> {
    const keys = items.map((i) => accountKey({ userId: userOf(i) }, asset));
    const ids = new Map((await this.repo.accountsByKey(tx ?? null, keys)).map((a) => [a.account_key, a.id]));
    const order = (i: T) => ids.get(accountKey({ userId: userOf(i) }, asset)) ?? '~';
    return [...items].sort((x, y) => (order(x) < order(y) ? -1 : order(x) > order(y) ? 1 : 0));
  }

  /** A page of a user's ledger entries, newest first (`before`: an entry id from the previous page). */
  history(userId: string, q: { asset?: AssetSymbol; before?: string | null; limit: number }): Promise<HistoryRow[]> {
    return this.repo.history(userId, q);
  }

  // ---------------------------------------------------------------- internals

  private checkAmount(amount: bigint) {
    if (typeof amount !== 'bigint' || amount <= 0n) {
      throw badRequest('amount must be greater than zero');
    }
  }

  private checkTransfer(input: TransferInput) {
    this.checkAmount(input.amount);
    if (accountKey(input.from, input.asset) === accountKey(input.to, input.asset)) {
      throw badRequest('A transfer needs two different accounts');
    }
  }

  /** What a batch item must satisfy before it is sent (the columns' bounds: a violation would abort the whole statement). */
  private checkItem(item: PostItem) {
    if ('holdId' in item) this.checkAmount(item.amount);
    else this.checkTransfer(item);
    if (!item.key || item.key.length > MAX_KEY) throw badRequest(`A ledger key is 1-${MAX_KEY} characters`);
    if (!item.kind || item.kind.length > MAX_KIND) throw badRequest(`A ledger kind is 1-${MAX_KIND} characters`);
    if (item.reference && item.reference.length > MAX_REFERENCE) throw badRequest(`A ledger reference is at most ${MAX_REFERENCE} characters`);
  }

  private async replayTransfer(
    t: Executor,
    key: string,
    expected: { kind: string; asset: AssetSymbol; amount: bigint; debitAccountId: string; creditAccountId: string },
  ): Promise<TransferRecord> {
    const r = await this.repo.transferByKey(t, key);
    const same = r && r.kind === expected.kind && r.asset === expected.asset && r.amount === expected.amount;
    if (!same || r.debitAccountId !== expected.debitAccountId || r.creditAccountId !== expected.creditAccountId) {
      throw conflict('Idempotency key was already used for a different movement');
    }
    return r;
  }

  private async lockHold(t: Tx, holdId: string): Promise<HoldRow> {
    const row = await this.repo.hold(holdId, t, true);
    if (!row) throw notFound('Hold not found');
    return row;
  }
}
