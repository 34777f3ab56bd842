import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Tx, withTransaction } from '../../core/database/transaction';
import { LedgerService } from '../ledger/ledger.service';
import { formatAmount } from '../ledger/money';
import { decide, PaymentEventKind, PaymentStatus } from './payment.machine';
import type { NormalisedEvent, ProviderName } from './providers/provider';
import { PaymentsAnnouncer } from './payments.announcer';
import { PaymentsRepository } from './payments.repository';
import { PaymentRow, toPaymentView } from './payments.views';

export interface SettleResult {
  duplicate: boolean;
  paymentId: string | null;
  outcome: string;
}

const usd = (n: bigint) => `${formatAmount(n, 'USD')} USD`;
const MAX_ATTEMPTS = 4;

/**
 * Applies provider events to payments: webhooks and reconciliation alike. In ONE transaction:
 * store the event (once per provider event id: a repeat stops here), lock the payment row,
 * decide with the pure machine, move money through the ledger (`payment:<id>:credit` once per
 * payment; reversals keyed by the event), write the new facts; then announce after commit.
 * Twenty copies of one event delivered at once serialise on the event's unique key; two
 * different events of one payment serialise on the payment's row lock.
 */
@Injectable()
export class PaymentSettlementService {
  private readonly logger = new Logger('Payments');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: PaymentsRepository,
    private readonly ledger: LedgerService,
    private readonly announcer: PaymentsAnnouncer,
  ) {}

  async apply(provider: ProviderName, ev: NormalisedEvent, source: 'webhook' | 'reconcile'): Promise<SettleResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTransaction(this.ds, (tx) => this.applyIn(tx, provider, ev, source));
      } catch (e) {
        // The user spent between our balance read and the reversal; or a unique-key race: read again.
        const code = (e as { code?: string }).code ?? (e as { driverError?: { code?: string } }).driverError?.code;
        const retry = (e as { code?: string }).code === 'INSUFFICIENT_FUNDS' || code === '40P01' || code === '40001';
        if (!retry || attempt >= MAX_ATTEMPTS) throw e;
      }
    }
  }

  private async applyIn(tx: Tx, provider: ProviderName, ev: NormalisedEvent, source: 'webhook' | 'reconcile'): Promise<SettleResult> {
    const stored = await this.repo.insertEvent(tx, {
      provider,
      eventId: ev.providerEventId,
      kind: ev.kind,
      ref: ev.providerRef ?? ev.paymentRef ?? null,
      amount: ev.amountMinor,
      currency: ev.currency,
      source,
    });
    if (!stored) return { duplicate: true, paymentId: null, outcome: 'duplicate' };
    if (ev.kind === 'ignored') {
      await this.repo.setEventOutcome(tx, stored, null, 'ignored: not a payment event');
      return { duplicate: false, paymentId: null, outcome: 'ignored' };
    }
    let payment = await this.repo.lockForEvent(tx, provider, { paymentId: ev.paymentId, ref: ev.providerRef, paymentRef: ev.paymentRef });
    if (!payment) {
      // Kept with its reference: adopted when a payment learns that reference.
      await this.repo.setEventOutcome(tx, stored, null, 'unmatched');
      return { duplicate: false, paymentId: null, outcome: 'unmatched' };
    }
    const before = payment.status;
    const result = await this.decideAndWrite(tx, payment, stored, ev.kind, ev.amountMinor, ev.currency);
    payment = result.row;
    let changed = result.changed;
    if (ev.paymentRef && !payment.provider_payment_ref) {
      await this.repo.setPaymentRef(tx, payment.id, ev.paymentRef);
      payment = { ...payment, provider_payment_ref: ev.paymentRef };
    }
    const adopted = await this.adoptOrphans(tx, payment);
    payment = adopted.row;
    changed ||= adopted.changed;
    if (changed) {
      const view = toPaymentView(payment);
      await this.announcer.record(tx, view, before);
      tx.afterCommit(() => this.announcer.announce(view));
    }
    return { duplicate: false, paymentId: payment.id, outcome: result.outcome };
  }

  /** Events that came before the payment could be found by the reference they name. */
  private async adoptOrphans(tx: Tx, payment: PaymentRow): Promise<{ row: PaymentRow; changed: boolean }> {
    const refs = [payment.provider_ref, payment.provider_payment_ref].filter((r): r is string => !!r);
    let changed = false;
    if (!refs.length) return { row: payment, changed };
    for (const o of await this.repo.orphans(tx, payment.provider, refs)) {
      const r = await this.decideAndWrite(tx, payment, o.id, o.kind as PaymentEventKind, o.amount === null ? null : BigInt(o.amount), o.currency, true);
      payment = r.row;
      changed ||= r.changed;
    }
    return { row: payment, changed };
  }

  /** After a checkout learned its provider reference: applies events that named it first. */
  async adopt(paymentId: string): Promise<void> {
    await withTransaction(this.ds, async (tx) => {
      const row = await this.repo.lockById(tx, paymentId);
      if (!row) return;
      const before = row.status;
      const r = await this.adoptOrphans(tx, row);
      if (r.changed) {
        const view = toPaymentView(r.row);
        await this.announcer.record(tx, view, before);
        tx.afterCommit(() => this.announcer.announce(view));
      }
    });
  }

  private async decideAndWrite(
    tx: Tx,
    p: PaymentRow,
    eventRowId: string,
    kind: PaymentEventKind,
    amount: bigint | null,
    currency: string | null,
    adopted = false,
  ): Promise<{ row: PaymentRow; changed: boolean; outcome: string }> {
    const label = adopted ? 'adopted: ' : '';
    if (currency && currency.toUpperCase() !== p.asset && amount !== null) {
      const row = await this.repo.applyFacts(tx, p.id, { ...this.facts(p), shortfall: 0n, flags: [`A ${kind} event reported ${currency}, not ${p.asset}: not applied`] });
      await this.repo.setEventOutcome(tx, eventRowId, p.id, `${label}flagged: currency ${currency}`);
      return { row, changed: true, outcome: 'flagged' };
    }
    const facts = this.facts(p);
    const balances = await this.ledger.balances(p.user_id, tx);
    const available = balances.find((b) => b.asset === 'USD')?.available ?? 0n;
    const d = decide({ ...facts, amount: BigInt(p.amount) }, { kind, amount }, available, usd);
    if (!d.changed) {
      await this.repo.setEventOutcome(tx, eventRowId, p.id, `${label}${d.note}`);
      return { row: p, changed: false, outcome: d.note };
    }
    if (d.credit > 0n) {
      await this.ledger.transfer(
        { key: `payment:${p.id}:credit`, kind: 'payment_credit', from: { system: 'external' }, to: { userId: p.user_id }, asset: 'USD', amount: d.credit, reference: `payment:${p.id}`, metadata: { provider: p.provider } },
        tx,
      );
    }
    if (d.takeBack > 0n) {
      await this.ledger.transfer(
        { key: `payment:${p.id}:reverse:${eventRowId}`, kind: 'payment_reversal', from: { userId: p.user_id }, to: { system: 'external' }, asset: 'USD', amount: d.takeBack, reference: `payment:${p.id}`, metadata: { provider: p.provider, kind } },
        tx,
      );
    }
    const row = await this.repo.applyFacts(tx, p.id, { status: d.status, ...d.next, shortfall: d.shortfall, flags: d.flags });
    const outcome = `${label}${p.status} → ${d.status}${d.credit ? `, credited ${usd(d.credit)}` : ''}${d.takeBack ? `, took back ${usd(d.takeBack)}` : ''}`;
    await this.repo.setEventOutcome(tx, eventRowId, p.id, outcome);
    return { row, changed: true, outcome };
  }

  private facts(p: PaymentRow): { status: PaymentStatus; credited: bigint; reversed: bigint; refundTarget: bigint } {
    return { status: p.status, credited: BigInt(p.credited), reversed: BigInt(p.reversed), refundTarget: BigInt(p.refund_target) };
  }
}
