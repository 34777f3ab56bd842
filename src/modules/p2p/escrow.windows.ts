import { Injectable, Logger } from '@nestjs/common';
import { JobsService } from '../../core/queue/jobs.service';
import type { EscrowAction } from './escrow.machine';
import { EscrowChatRoom } from './escrow.chat-room';
import { EscrowDisputes } from './escrow.disputes';
import { EscrowTransitions } from './escrow.transitions';
import { EscrowsRepository } from './escrows.repository';
import { EscrowChange, P2PAnnouncer } from './p2p.announcer';
import type { EscrowView } from './p2p.views';

/** Deterministic BullMQ job ids (no ':' allowed): one payment-window and one release-window job per escrow. */
export const paymentJobId = (escrowId: string) => `p2p-pay-${escrowId}`;
export const releaseJobId = (escrowId: string) => `p2p-release-${escrowId}`;

/**
 * The payment and release windows: their delayed jobs, what happens when one ends, the sweep
 * that honours windows from the database, and the follow-up of every committed change
 * (schedule or drop window jobs, then announce).
 */
@Injectable()
export class EscrowWindows {
  private readonly logger = new Logger('P2P');

  constructor(
    private readonly repo: EscrowsRepository,
    private readonly transitions: EscrowTransitions,
    private readonly disputes: EscrowDisputes,
    private readonly chatRoom: EscrowChatRoom,
    private readonly jobs: JobsService,
    private readonly announcer: P2PAnnouncer,
  ) {}

  /** After a change committed: the release window opens, a closed window's job goes, then the announcement. */
  async followUp(view: EscrowView, action: EscrowAction, actorId: string | null) {
    if (view.status === 'paid' && view.releaseDeadline) await this.schedule('release-window', view.id, new Date(view.releaseDeadline));
    // A window closed by a party's action: drop its delayed job (it would only find nothing to do).
    if (action === 'confirm' || action === 'cancel') await this.unschedule(paymentJobId(view.id));
    if (action === 'release' || action === 'dispute') await this.unschedule(releaseJobId(view.id));
    await this.announcer.announce(view, action as EscrowChange, actorId);
  }

  async schedule(kind: 'payment-window' | 'release-window', escrowId: string, at: Date): Promise<void> {
    const jobId = kind === 'payment-window' ? paymentJobId(escrowId) : releaseJobId(escrowId);
    try {
      await this.jobs.add('p2p', kind, { escrowId }, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
    } catch (e) {
      // The sweep finds it in the database later.
      this.logger.warn(`could not schedule ${kind} for escrow ${escrowId}: ${(e as Error).message}`);
    }
  }

  private async unschedule(jobId: string) {
    try {
      const job = await this.jobs.queue('p2p').getJob(jobId);
      if (job && (await job.isDelayed())) await job.remove();
    } catch {
      /* it may be running right now; it will find the escrow moved on */
    }
  }

  /**
   * The payment window ended: cancel and give the seller's crypto back. Idempotent; `notDueMs`
   * when the deadline (by the database clock) has not come yet.
   */
  async expirePayment(id: string): Promise<{ done: boolean; notDueMs?: number }> {
    const r = await this.transitions.run(id, 'expire_payment', { id: null, role: 'system' }, { due: 'payment' });
    if (!r.ok) return { done: false, notDueMs: r.notDueMs };
    await this.followUp(r.view, 'expire_payment', null);
    return { done: true };
  }

  /** The release window ended with the crypto still in escrow: the trade goes to arbitration. */
  async expireRelease(id: string): Promise<{ done: boolean; notDueMs?: number }> {
    const row = await this.repo.row(id);
    if (!row || row.status !== 'paid') return { done: false };
    const dispute = await this.disputes.seal(row, {
      openedBy: null,
      openedByRole: 'system',
      reason: 'The seller did not release within the release window',
      evidence: [],
    });
    const r = await this.transitions.run(id, 'expire_release', { id: null, role: 'system' }, { due: 'release', dispute });
    if (!r.ok) return { done: false, notDueMs: r.notDueMs };
    await this.followUp(r.view, 'expire_release', null);
    return { done: true };
  }

  /**
   * Honours windows from the database: applies every window that has ended (whether its job
   * was lost, or the app was down when it fired) and, with `reschedule`, makes sure every open
   * window has its delayed job (deduplicated by job id) and every escrow its chat room.
   */
  async sweep(opts: { reschedule: boolean; batch?: number }): Promise<{ cancelled: number; disputed: number; scheduled: number }> {
    const batch = opts.batch ?? 200;
    const cancelled = await this.applyDue(() => this.repo.duePayments(batch), (id) => this.expirePayment(id), 'payment', batch);
    const disputed = await this.applyDue(() => this.repo.dueReleases(batch), (id) => this.expireRelease(id), 'release', batch);
    let scheduled = 0;
    if (opts.reschedule) {
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const open = await this.repo.openWindows(after, batch);
        for (const e of open) {
          if (e.status === 'awaiting_payment') await this.schedule('payment-window', e.id, new Date(e.payment_deadline));
          else if (e.release_deadline) await this.schedule('release-window', e.id, new Date(e.release_deadline));
          scheduled++;
        }
        if (open.length < batch) break;
        after = open[open.length - 1].id;
      }
      for (const r of await this.repo.roomless(batch)) await this.chatRoom.ensure(r).catch(() => null);
    }
    return { cancelled, disputed, scheduled };
  }

  /** Applies ended windows batch by batch until a batch is short or makes no progress. */
  private async applyDue(
    due: () => Promise<{ id: string }[]>,
    expire: (id: string) => Promise<{ done: boolean }>,
    what: 'payment' | 'release',
    batch: number,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await due();
      let progressed = 0;
      for (const { id } of ids) {
        const r = await expire(id).catch((e) => (this.logger.warn(`sweep: ${what} window of ${id}: ${(e as Error).message}`), { done: false }));
        if (r.done) progressed++;
      }
      total += progressed;
      if (ids.length < batch || progressed === 0) return total;
    }
  }
}
