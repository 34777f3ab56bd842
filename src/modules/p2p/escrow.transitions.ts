import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { withTransaction } from '../../core/database/transaction';
import { conflict, notFound } from '../../core/http/domain-error';
import { EscrowAction, EscrowActor, EscrowStatus, TRANSITIONS } from './escrow.machine';
import { EscrowMoney } from './escrow.money';
import { DisputeInput, EscrowsRepository } from './escrows.repository';
import { P2PAnnouncer } from './p2p.announcer';
import { EscrowRow, EscrowView, toEscrowView } from './p2p.views';

export type TransitionResult =
  | { ok: true; row: EscrowRow; view: EscrowView }
  | { ok: false; status: EscrowStatus; notDueMs?: number; paymentWindowEnded?: boolean };

export interface TransitionOptions {
  /** A window's job: refused (with the time left) until the window has ended by the database clock. */
  due?: 'payment' | 'release';
  dispute?: DisputeInput;
  note?: string;
  resolution?: { outcome: 'release' | 'refund'; note: string; by: string };
}

/**
 * Executes one step of `escrow.machine.ts` in ONE transaction: locks the escrow row
 * (SELECT ... FOR UPDATE), checks the state (a refusal when it moved on), moves the money
 * through the ledger, writes the new state, the dispute, the timeline and the reputation
 * counters, and records the change's notification in the outbox. Two concurrent actions on one
 * escrow serialise on the row lock; the second sees the first's result and is refused.
 */
@Injectable()
export class EscrowTransitions {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: EscrowsRepository,
    private readonly money: EscrowMoney,
    private readonly announcer: P2PAnnouncer,
  ) {}

  run(id: string, action: EscrowAction, actor: { id: string | null; role: EscrowActor }, opts: TransitionOptions = {}): Promise<TransitionResult> {
    const t = TRANSITIONS[action];
    return withTransaction(this.ds, async (tx): Promise<TransitionResult> => {
      const cur = await this.repo.lock(tx, id);
      if (!cur) throw notFound('Escrow not found');
      if (cur.status !== t.from) return { ok: false, status: cur.status };
      // The buyer's "paid" counts only inside the payment window, whether or not the timeout job ran yet.
      if (action === 'confirm' && Number(cur.payment_ms_left) <= 0) return { ok: false, status: cur.status, paymentWindowEnded: true };
      if (opts.due) {
        const left = Number(opts.due === 'payment' ? cur.payment_ms_left : cur.release_ms_left);
        if (left > 0) return { ok: false, status: cur.status, notDueMs: left };
      }

      // Money first, in this transaction: it commits with the state change or not at all.
      const transfers = await this.money.settle(tx, cur, t.money);
      const affected = await this.repo.applyTransition(tx, id, t, action, { releaseWindowSeconds: this.config.p2p.releaseWindowSeconds, ...transfers });
      if (affected !== 1) throw conflict('The escrow changed; try again'); // unreachable under the row lock

      if (opts.dispute) await this.repo.insertDispute(tx, id, opts.dispute);
      if (opts.resolution) await this.repo.resolveDispute(tx, id, opts.resolution);
      await this.repo.bumpStats(tx, cur, t.to);
      await this.repo.recordEvent(tx, id, t.from, t.to, actor.id, actor.role, opts.note ?? opts.dispute?.reason ?? null);
      const row = (await this.repo.row(id, tx))!;
      const view = toEscrowView(row);
      await this.announcer.record(tx, { escrow: view, change: action, actorId: actor.id });
      return { ok: true, row, view };
    });
  }
}
