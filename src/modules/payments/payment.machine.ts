/**
 * How a payment reacts to what a provider tells us. Pure: no database, no Nest, no clock.
 *
 * Providers deliver events late, twice, out of order, and more than one per payment (Stripe
 * sends `checkout.session.completed` and `payment_intent.succeeded` for one payment). So the
 * state is not a plain "current status" but the facts learned so far, and every decision is
 * computed from those facts:
 *
 *   - `credited`: what was credited to the user (0 until the first `paid`; set once, never again);
 *   - `refundTarget`: the largest refunded/disputed total a provider reported (cumulative);
 *   - `reversed`: how much of the credit has been dealt with for refunds: taken back from the
 *     user's available balance, plus any shortfall that could not be taken (flagged for admins).
 *
 *   pending ──paid──▶ succeeded ──refund/dispute (in full)──▶ refunded
 *      │  └─failed──▶ failed ──paid (late)──▶ succeeded (flagged)
 *      └───expired──▶ expired ──paid (late)──▶ succeeded (flagged)
 *   pending ──refund (before any paid)──▶ refunded; a later `paid` credits and takes back at once.
 *
 * Stale events (failed or pending after succeeded, expired after failed, anything about a
 * payment that already ended the same way) change nothing.
 */

export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'expired', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const EVENT_KINDS = ['paid', 'pending', 'failed', 'expired', 'refunded', 'disputed'] as const;
export type PaymentEventKind = (typeof EVENT_KINDS)[number];

export interface PaymentFacts {
  status: PaymentStatus;
  /** What the checkout asked for (minor units). */
  amount: bigint;
  credited: bigint;
  reversed: bigint;
  refundTarget: bigint;
}

export interface MachineEvent {
  kind: PaymentEventKind;
  /** What the provider reports (paid: amount paid; refunded/disputed: total refunded so far). Null: "as checked out" / "everything". */
  amount: bigint | null;
}

export interface Decision {
  /** False when the event changes nothing (stale, repeated, or a pending event). */
  changed: boolean;
  status: PaymentStatus;
  /** Credit the user this much now (0 or the whole paid amount, exactly once per payment). */
  credit: bigint;
  /** Take this much back from the user now (never more than `available`). */
  takeBack: bigint;
  /** What should have been taken back but was not available: flag it. */
  shortfall: bigint;
  /** Reasons for admins to look at the payment (empty when all is well). */
  flags: string[];
  next: Pick<PaymentFacts, 'credited' | 'reversed' | 'refundTarget'>;
  /** Why nothing happened, for the event log. */
  note: string;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** The status the facts imply, once money has been involved. */
function statusFor(f: Pick<PaymentFacts, 'credited' | 'reversed' | 'refundTarget'>, fallback: PaymentStatus): PaymentStatus {
  if (f.credited > 0n) return f.reversed >= f.credited ? 'refunded' : 'succeeded';
  if (f.refundTarget > 0n) return 'refunded';
  return fallback;
}

/**
 * Decides what an event does. `available` is the user's available balance of the payment's
 * asset before this event (refunds take back at most what is there, plus what this event credits).
 */
export function decide(state: PaymentFacts, event: MachineEvent, available: bigint, fmt: (n: bigint) => string = String): Decision {
  const flags: string[] = [];
  let { credited, reversed, refundTarget } = state;
  let credit = 0n;
  let status = state.status;

  switch (event.kind) {
    case 'pending':
      return unchanged(state, 'pending events change nothing');
    case 'failed':
    case 'expired': {
      if (state.status !== 'pending') return unchanged(state, `${event.kind} ignored: the payment is ${state.status}`);
      status = event.kind;
      break;
    }
    case 'paid': {
      const paid = event.amount ?? state.amount;
      if (paid <= 0n) return unchanged(state, 'paid event without an amount paid');
      if (credited > 0n) {
        if (paid !== credited) flags.push(`A provider later reported ${fmt(paid)} paid; ${fmt(credited)} was credited`);
        if (!flags.length) return unchanged(state, 'already credited');
        return { ...unchanged(state, 'already credited'), changed: true, flags };
      }
      credit = paid;
      credited = paid;
      if (paid !== state.amount) flags.push(`Paid ${fmt(paid)} for a checkout of ${fmt(state.amount)}`);
      if (state.status === 'failed' || state.status === 'expired') flags.push(`Paid after the checkout was marked ${state.status}`);
      status = 'succeeded';
      break;
    }
    case 'refunded':
    case 'disputed': {
      const reported = event.amount ?? max(credited, state.amount);
      if (reported <= refundTarget) return unchanged(state, `${event.kind}: nothing new to take back`);
      refundTarget = reported;
      if (event.kind === 'disputed') flags.push(`Disputed: ${fmt(reported)}`);
      break;
    }
  }

  // Whatever happened, bring the reversal up to date with the facts (a late `paid` after a
  // refund takes back at once; a refund takes back what is available and flags the rest).
  const owed = min(refundTarget, credited) - reversed;
  let takeBack = 0n;
  let shortfall = 0n;
  if (owed > 0n) {
    const avail = max(available + credit, 0n);
    takeBack = min(owed, avail);
    shortfall = owed - takeBack;
    reversed += owed;
    if (shortfall > 0n) flags.push(`Refund of ${fmt(owed)}: only ${fmt(takeBack)} was available; ${fmt(shortfall)} not recovered`);
  }
  if (refundTarget > credited && credited > 0n && event.kind !== 'paid') {
    flags.push(`Provider reports ${fmt(refundTarget)} refunded; only ${fmt(credited)} was credited`);
  }
  const next = { credited, reversed, refundTarget };
  status = statusFor(next, status);
  return { changed: true, status, credit, takeBack, shortfall, flags, next, note: 'applied' };
}

function unchanged(state: PaymentFacts, note: string): Decision {
  return {
    changed: false,
    status: state.status,
    credit: 0n,
    takeBack: 0n,
    shortfall: 0n,
    flags: [],
    next: { credited: state.credited, reversed: state.reversed, refundTarget: state.refundTarget },
    note,
  };
}

export const isTerminal = (s: PaymentStatus) => s !== 'pending';
