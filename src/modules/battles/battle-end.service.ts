import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Tx, withTransaction } from '../../core/database/transaction';
import { JobsService } from '../../core/queue/jobs.service';
import { LedgerService } from '../ledger/ledger.service';
import { decideEnd, decideResult, Result } from './battle.machine';
import { BattleUpdatesService } from './battle-updates.service';
import { BattleRow, BattlesRepository } from './battles.repository';
import { hashLog, toLogEntries } from './vote-log';

/** Deterministic BullMQ job id (no ':' allowed): one end job per battle. */
export const endJobId = (battleId: string) => `battle-end-${battleId}`;
export const prizeShareKey = (battleId: string, userId: string) => `battle:${battleId}:prize:${userId}`;

/**
 * Ends battles, once. The end is one transaction: the conditional UPDATE (live → ended, only
 * when `ends_at` has passed) takes the battle's row lock, so it waits for votes in flight and
 * every vote after it is refused; then the tallies and the vote log are read, the winner decided
 * (battle.machine), the prize paid from the creator's hold (or given back), and the result hash
 * stored. A second end (a retried job, the sweep, another instance) finds no live row and does
 * nothing, so the prize moves exactly once; the ledger keys guard it a second time.
 */
@Injectable()
export class BattleEndService {
  private readonly logger = new Logger('Battles');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: BattlesRepository,
    private readonly ledger: LedgerService,
    private readonly jobs: JobsService,
    private readonly updates: BattleUpdatesService,
  ) {}

  async schedule(battleId: string, endsAt: Date): Promise<void> {
    try {
      await this.jobs.add('battles', 'end', { battleId }, { jobId: endJobId(battleId), delay: Math.max(0, endsAt.getTime() - Date.now()) });
    } catch (e) {
      // The sweeps find it in the database.
      this.logger.warn(`could not schedule the end of battle ${battleId}: ${(e as Error).message}`);
    }
  }

  /** Ends the battle if it is due. `notDueMs` when it fired early (by the database clock). */
  async end(battleId: string): Promise<{ done: boolean; notDueMs?: number }> {
    const state = await this.repo.endState(battleId);
    if (!state) return { done: false };
    const d = decideEnd(state.status, Date.now() + Number(state.ms_left), Date.now());
    if (!d.end) return { done: false, notDueMs: d.notDueMs };
    const ended = await withTransaction(this.ds, async (tx) => {
      const row = await this.repo.markEnded(tx, battleId);
      if (!row) return false;
      await this.close(tx, row);
      return true;
    });
    return { done: ended };
  }

  private async close(tx: Tx, row: BattleRow): Promise<void> {
    const participants = await this.repo.participants([row.id], tx);
    const tallies = participants.map((p) => ({ userId: p.user_id, position: Number(p.position), votes: Number(p.votes) }));
    const prize = row.prize_amount === null ? null : BigInt(row.prize_amount);
    const result = decideResult(tallies, prize);
    const resultHash = hashLog(row.id, toLogEntries(row.log_salt, await this.repo.votes(row.id, tx)));
    if (prize !== null && row.prize_hold_id) await this.settlePrize(tx, row, result);
    await this.repo.recordResult(tx, row.id, { winnerId: result.winnerId, resultHash, prizeOutcome: result.prizeOutcome });
    const participantIds = participants.map((p) => p.user_id);
    tx.afterCommit(() =>
      this.updates.ended(row.id, { title: row.title, createdBy: row.created_by, winnerId: result.winnerId, winnerIds: result.top, resultHash, participantIds }),
    );
  }

  /**
   * Pays each top participant their share from the creator's hold. A share owed to the creator
   * themself is released back to their available balance (a hold cannot be posted to its own
   * account). No votes: the hold is voided.
   */
  private async settlePrize(tx: Tx, row: BattleRow, result: Result): Promise<void> {
    const holdId = row.prize_hold_id!;
    if (result.prizeOutcome === 'refunded') {
      await this.ledger.voidHold(holdId, tx);
      return;
    }
    for (const share of result.shares) {
      if (share.userId === row.created_by) {
        await this.ledger.releaseHold(holdId, share.amount, tx);
      } else {
        await this.ledger.postHold(
          {
            key: prizeShareKey(row.id, share.userId),
            holdId,
            amount: share.amount,
            to: { userId: share.userId },
            kind: 'battle_prize',
            reference: row.id,
            metadata: { battleId: row.id, outcome: result.prizeOutcome },
          },
          tx,
        );
      }
      await this.repo.recordShare(tx, row.id, share.userId, share.amount);
    }
  }

  /**
   * Honours `endsAt` from the database: ends every live battle whose time has passed (its job
   * was lost with Redis, or nobody ran while it came due) and, with `reschedule`, makes sure every
   * live battle has its delayed end job (deduplicated by job id).
   */
  async sweep(opts: { reschedule: boolean; batch?: number }): Promise<{ ended: number; scheduled: number }> {
    const batch = opts.batch ?? 200;
    let ended = 0;
    let scheduled = 0;
    for (;;) {
      const due = await this.repo.dueLive(batch);
      let progressed = 0;
      for (const id of due) {
        const r = await this.end(id).catch((e) => (this.logger.warn(`sweep: end of battle ${id}: ${(e as Error).message}`), { done: false }));
        if (r.done) progressed++;
      }
      ended += progressed;
      if (due.length < batch || progressed === 0) break;
    }
    if (opts.reschedule) {
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const live = await this.repo.live(after, batch);
        for (const b of live) {
          await this.schedule(b.id, new Date(b.ends_at));
          scheduled++;
        }
        if (live.length < batch) break;
        after = live[live.length - 1].id;
      }
    }
    return { ended, scheduled };
  }
}
