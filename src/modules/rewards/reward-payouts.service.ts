import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { withTransaction } from '../../core/database/transaction';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { Announcer } from '../../core/realtime/announce';
import { RewardEarned } from './rewards.events';
import { InsufficientFundsError, LedgerService } from '../ledger/ledger.service';
import { formatAmount } from '../ledger/money';
import { PAYOUT_KIND, REWARD_ASSET, REWARDS_POOL, payoutKey } from './rewards.constants';
import { PaidRow, RewardsRepository } from './rewards.repository';
import { big, iso } from '../../core/database/sql';

export interface PayoutJobData {
  rewardId: string;
}

export type PayoutOutcome = 'paid' | 'already-paid' | 'missing';

/** Most rewards paid in one payout transaction. */
const PAYOUT_BATCH = 50;
const RECENTLY_PAID_MAX = 20_000;

/**
 * Pays queued rewards exactly once. The BullMQ job id is the reward id (so enqueueing twice
 * is one job); the handler re-reads the reward, and marks it paid in the same transaction as
 * the ledger movement, whose idempotency key is `reward:<id>`: a job that runs twice, or
 * crashes after paying, moves nothing the second time. Under a backlog one transaction pays
 * up to PAYOUT_BATCH rewards (the pool account is a single hot row). An empty pool refuses the
 * movement (the ledger never lets it go negative); the reward stays queued, is retried, and is
 * paid once the pool is refilled. A sweep (at start, periodically, and after funding)
 * re-enqueues rewards whose job Redis lost.
 */
@Injectable()
export class RewardPayouts implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RewardPayouts');
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;
  /** Rewards this instance's batches paid lately (their own jobs then skip the database). */
  private readonly recentlyPaid = new Set<string>();
  /** Payout transactions of this instance, one after the other. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly ledger: LedgerService,
    private readonly jobs: JobsService,
    private readonly announcer: Announcer,
    private readonly repo: RewardsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap() {
    if (!this.config.queuesEnabled) return;
    await this.sweep().catch((e) => this.logger.warn(`reward sweep at start failed: ${(e as Error).message}`));
    this.timer = setInterval(() => void this.sweep().catch((e) => this.logger.warn(`reward sweep failed: ${(e as Error).message}`)), this.config.rewards.sweepIntervalSeconds * 1000);
    this.timer.unref();
  }

  async onModuleDestroy() {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping?.catch(() => undefined);
  }

  /** Enqueues the payout of a committed reward. A Redis failure is logged: the sweep retries. */
  async enqueue(rewardId: string): Promise<void> {
    try {
      await this.jobs.add('rewards', 'payout', { rewardId } satisfies PayoutJobData, { jobId: rewardId });
    } catch (e) {
      this.logger.warn(`could not enqueue the payout of reward ${rewardId} (the sweep will): ${(e as Error).message}`);
    }
  }

  @JobHandler('rewards', 'payout')
  async handle(job: Job<PayoutJobData>) {
    return { outcome: await this.pay(job.data.rewardId) };
  }

  /**
   * Pays the job's reward and, when others are waiting, up to PAYOUT_BATCH - 1 more in the same
   * transaction: the pool account is one hot row, so one lock and one commit (WAL flush) for
   * many movements is what makes a backlog drain fast. Payout transactions run one at a time
   * per instance (the others wait here, not on a database connection) and take turns across
   * instances on an advisory lock. A batch that fails is retried with the job's own reward
   * alone, so one bad reward never holds the others back.
   */
  async pay(rewardId: string): Promise<PayoutOutcome> {
    const settled = await this.settled(rewardId);
    if (settled) return settled;
    return this.oneAtATime(async () => {
      // Jobs that waited here for a batch that paid their reward too have nothing left to do
      // (a one-time hint: a later run, e.g. from the sweep, asks the database again).
      if (this.recentlyPaid.delete(rewardId)) return 'already-paid';
      let batched = false;
      try {
        return await this.payBatch(rewardId, PAYOUT_BATCH, (n) => (batched = n > 1));
      } catch (e) {
        if (batched) {
          try {
            return await this.payBatch(rewardId, 1, () => undefined);
          } catch (e2) {
            await this.recordFailure(rewardId, e2);
            throw e2;
          }
        }
        await this.recordFailure(rewardId, e);
        throw e;
      }
    });
  }

  private oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn, fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  private rememberPaid(ids: string[]) {
    for (const id of ids) this.recentlyPaid.add(id);
    while (this.recentlyPaid.size > RECENTLY_PAID_MAX) this.recentlyPaid.delete(this.recentlyPaid.values().next().value!);
  }

  /** 'already-paid' or 'missing' when there is nothing to pay (a batch paid it already). */
  private async settled(rewardId: string): Promise<PayoutOutcome | null> {
    const status = await this.repo.status(rewardId);
    if (!status) return 'missing';
    return status === 'paid' ? 'already-paid' : null;
  }

  private async payBatch(rewardId: string, max: number, sized: (n: number) => void): Promise<PayoutOutcome> {
    const paid = await withTransaction(this.ds, async (tx) => {
      // The job's own reward (waiting for another instance's payout holding it), then others,
      // skipping those another payout holds.
      if (!(await this.repo.lockQueued(tx, rewardId))) return null;
      let rows = await this.repo.markBatchPaid(tx, rewardId, max - 1);
      sized(rows.length);
      const batching = this.ledger.batching;
      if (rows.length > 1 && !batching) {
        // Lock the users' accounts in the ledger's own order (by account id), as a single
        // transfer does, so a batch never crosses a concurrent wallet transfer between two of them.
        // (The batch statement locks every account it touches in that order itself.)
        rows = await this.ledger.inLockOrder(rows, (r) => r.user_id, REWARD_ASSET, tx);
      }
      // Payout transactions of all instances take turns from here (they all need the pool row):
      // a batch holding the pool and another payout holding a user account it needs would
      // otherwise deadlock. Held only for the ledger statements and the COMMIT.
      await this.repo.takePayoutTurn(tx);
      const movement = (row: PaidRow) => ({
        key: payoutKey(row.id),
        kind: PAYOUT_KIND,
        from: REWARDS_POOL,
        to: { userId: row.user_id },
        asset: REWARD_ASSET,
        amount: big(row.amount),
        reference: row.id,
        metadata: { action: row.action, targetId: row.target_id },
      });
      if (batching) {
        // Every payout of the batch in ONE ledger statement (ledger_post_batch). A payout the
        // ledger refuses (the pool ran dry) fails the transaction, as before: the rewards marked
        // paid above roll back with it and the job's own reward is retried alone.
        const outcomes = await this.ledger.postMany(rows.map((row) => [movement(row)]), tx);
        outcomes.forEach((o, i) => {
          if (!o.ok) throw o.error;
          if (!o.transfers[0].replayed) tx.afterCommit(() => this.announce(rows[i]));
        });
        return rows;
      }
      for (const row of rows) {
        const t = await this.ledger.transfer(movement(row), tx);
        if (!t.replayed) tx.afterCommit(() => this.announce(row));
      }
      return rows;
    });
    if (paid) this.rememberPaid(paid.filter((r) => r.id !== rewardId).map((r) => r.id));
    return paid ? 'paid' : ((await this.settled(rewardId)) ?? 'already-paid');
  }

  /** A failed attempt rolled back: record it (and why) outside the transaction. */
  private async recordFailure(rewardId: string, e: unknown) {
    const message = e instanceof InsufficientFundsError ? 'rewards pool exhausted' : String((e as Error)?.message ?? e).slice(0, 300);
    await this.repo.recordFailure(rewardId, message).catch(() => undefined);
  }

  private announce(row: PaidRow) {
    const reward = {
      id: row.id,
      action: row.action,
      targetId: row.target_id,
      amount: formatAmount(big(row.amount), REWARD_ASSET),
      asset: REWARD_ASSET,
      status: 'paid' as const,
      createdAt: iso(row.created_at)!,
      paidAt: iso(row.paid_at),
    };
    void this.announcer.announce(RewardEarned, { userId: row.user_id, reward }, { user: row.user_id });
  }

  /**
   * Re-enqueues queued rewards older than `olderThanSeconds` whose job is gone (Redis lost
   * it), failed for good, or completed without paying; with `promote`, rewards waiting for a
   * retry delay are run now. One sweep at a time per instance; any instance may sweep.
   */
  sweep(opts: { olderThanSeconds?: number; promote?: boolean } = {}): Promise<{ requeued: number; retried: number; promoted: number }> {
    const run = async () => {
      const olderThan = opts.olderThanSeconds ?? this.config.rewards.stuckAfterSeconds;
      const stuck = await this.repo.queuedOlderThan(olderThan);
      const out = { requeued: 0, retried: 0, promoted: 0 };
      const queue = this.jobs.queue('rewards');
      for (const { id } of stuck) {
        const job = await queue.getJob(id);
        const state = job ? await job.getState() : 'missing';
        if (state === 'missing' || state === 'unknown') {
          if (job) await job.remove().catch(() => undefined);
          await this.enqueue(id);
          out.requeued += 1;
        } else if (state === 'failed') {
          await job!.retry('failed', { resetAttemptsMade: true }).catch(() => undefined);
          out.retried += 1;
        } else if (state === 'completed') {
          await job!.remove().catch(() => undefined);
          await this.enqueue(id);
          out.requeued += 1;
        } else if (state === 'delayed' && opts.promote) {
          await job!.promote().catch(() => undefined);
          out.promoted += 1;
        }
      }
      if (out.requeued || out.retried) this.logger.log({ ...out }, 'reward sweep re-enqueued stuck payouts');
      return out;
    };
    const p = (this.sweeping ?? Promise.resolve()).catch(() => undefined).then(run);
    this.sweeping = p;
    return p;
  }
}

