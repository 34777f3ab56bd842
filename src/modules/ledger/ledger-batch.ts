import { badRequest, conflict, notFound } from '../../core/http/domain-error';
import type { AppConfig } from '../../core/config/config';
import { BatchItemJson, BatchRow, accountSpec } from './ledger.repository';
import { InsufficientFundsError } from './ledger-errors';
import type { PostItem, PostOutcome, TransferRecord } from './ledger.types';
import { formatAmount } from './money';

/**
 * The `ledger_post_batch` side of LedgerService: how a posting becomes a batch item, how a result
 * row becomes a TransferRecord or a refusal, and the group-commit queue of autocommitted transfers.
 */

interface Waiting {
  group: PostItem[];
  resolve: (t: TransferRecord[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit (LEDGER_GROUP_COMMIT): transfers made without a caller transaction wait here
 * while `batchConcurrency` batch statements are in flight, and the next statement carries
 * them all (up to `batchMax` legs). A lone transfer goes at once: nothing waits on a timer.
 * Hand-written rather than a batching library: the batch boundary is "whatever arrived while
 * the previous statement was in flight", not a time window or a size, and each caller must get
 * its own result or error back from the one statement.
 */
export class GroupCommitQueue {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(
    private readonly limits: Pick<AppConfig['ledger'], 'batchMax' | 'batchConcurrency'>,
    private readonly stats: { fallbacks: number },
    /** Posts the groups in one autocommitted statement; per-group outcomes, or throws when the statement failed as a whole. */
    private readonly post: (groups: PostItem[][]) => Promise<PostOutcome[]>,
  ) {}

  /** Queues a group for the next batch statement. */
  submit(group: PostItem[]): Promise<TransferRecord[]> {
    return new Promise<TransferRecord[]>((resolve, reject) => {
      this.waiting.push({ group, resolve, reject });
      this.pump();
    });
  }

  private pump() {
    const { batchMax, batchConcurrency } = this.limits;
    while (this.inFlight < batchConcurrency && this.waiting.length) {
      let legs = 0;
      let n = 0;
      while (n < this.waiting.length && (n === 0 || legs + this.waiting[n].group.length <= batchMax)) legs += this.waiting[n++].group.length;
      const batch = this.waiting.splice(0, n);
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  /** One batch statement for the waiting groups; each caller gets its own result or error. */
  private async send(batch: Waiting[]): Promise<void> {
    let outcomes: PostOutcome[];
    try {
      outcomes = await this.post(batch.map((w) => w.group));
    } catch (e) {
      if (batch.length === 1) return batch[0].reject(e);
      // The statement failed as a whole (refusals come back per item, so this is unexpected: a
      // lost connection, a deadlock): nothing of it committed. Each group runs again on its own,
      // so one cause never decides its neighbours' fate.
      this.stats.fallbacks += 1;
      for (const w of batch) await this.send([w]);
      return;
    }
    outcomes.forEach((o, i) => (o.ok ? batch[i].resolve(o.transfers) : batch[i].reject(o.error)));
  }
}

/** A posting as `ledger_post_batch` reads it (`g`: its linked group). */
export function toBatchItem(it: PostItem, g: number): BatchItemJson {
  const base = { g, k: it.key, t: it.kind, a: it.asset, m: it.amount.toString(), r: it.reference ?? null, x: it.metadata ?? null };
  const rp = it.referencePrevious ? { rp: 1 as const } : {};
  if ('holdId' in it) return { ...base, ...rp, c: accountSpec(it.to, it.asset), h: it.holdId, f: !!it.final };
  return { ...base, ...rp, d: accountSpec(it.from, it.asset), c: accountSpec(it.to, it.asset) };
}

/** The transfer a posted (or replayed) result row stands for. */
export function batchRecord(r: BatchRow, item: PostItem, previousId: string | null): TransferRecord {
  return {
    id: r.o_id!,
    kind: item.kind,
    asset: item.asset,
    amount: item.amount,
    debitAccountId: r.o_debit!,
    creditAccountId: r.o_credit!,
    reference: item.referencePrevious && previousId ? previousId : (item.reference ?? null),
    metadata: item.metadata ?? null,
    createdAt: new Date(r.o_created!),
    replayed: r.o_replayed,
    userIds: [r.o_debit_user, r.o_credit_user].filter((x): x is string => !!x),
  };
}

/** The error a refused row answers its caller with (the same errors the one-statement paths throw). */
export function batchError(r: BatchRow, item: PostItem): Error {
  switch (r.o_err) {
    case 'insufficient_funds':
      return new InsufficientFundsError(item.asset, item.amount);
    case 'account_not_found':
      return notFound('Account not found');
    case 'hold_not_found':
      return notFound('Hold not found');
    case 'hold_posted':
    case 'hold_voided':
      return conflict(`Hold is already ${r.o_err.slice(5)}`);
    case 'hold_exceeded':
      return conflict(`Cannot post ${formatAmount(item.amount, item.asset)}: more than remains held`);
    case 'asset_mismatch':
      return badRequest('The hold is in another asset');
    case 'same_account':
      return badRequest('A hold cannot be posted to its own account');
    case 'key_reused':
      return conflict('Idempotency key was already used for a different movement');
    default:
      return new Error(`ledger_post_batch: unknown refusal ${r.o_err}`);
  }
}
