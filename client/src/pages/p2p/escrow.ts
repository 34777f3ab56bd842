/**
 * What the P2P page shows for an escrow, as pure functions: the caller's role, the actions
 * that role may take in the current state (the contract's state machine), the timeline and
 * the window that is running. The server decides; this only hides buttons that would be refused.
 */
import { compareDecimal, isDecimal, multiplyDecimal } from './decimal';

export type EscrowStatus = 'awaiting_payment' | 'paid' | 'disputed' | 'released' | 'cancelled' | 'refunded';

export interface Dispute {
  openedBy: string | null;
  openedByRole: string;
  reason: string;
  openedAt: string;
  outcome: string | null;
  resolutionNote: string | null;
  resolvedAt: string | null;
}

export interface Escrow {
  id: string;
  offerId: string | null;
  sellerId: string;
  buyerId: string;
  asset: string;
  amount: string;
  fee?: string;
  price?: string | null;
  fiatCurrency: string;
  fiatAmount: string;
  paymentMethod?: string;
  status: EscrowStatus;
  paymentDeadline: string;
  releaseDeadline: string | null;
  paidAt?: string | null;
  disputedAt?: string | null;
  releasedAt?: string | null;
  cancelledAt?: string | null;
  refundedAt?: string | null;
  cancelReason?: string | null;
  chatRoomId?: string | null;
  dispute?: Dispute | null;
  createdAt: string;
  updatedAt: string;
}

export interface Offer {
  id: string;
  userId: string;
  username: string;
  side: 'buy' | 'sell';
  asset: string;
  fiatCurrency: string;
  price: string;
  minAmount: string;
  maxAmount: string;
  paymentMethods: string[];
  paymentWindowSeconds: number;
  terms: string | null;
  status: string;
  reputation?: { completedTrades: number; failedTrades: number; completionRate: number | null };
}

export type Role = 'buyer' | 'seller' | 'observer';
export type EscrowAction = 'confirm' | 'cancel' | 'release' | 'dispute';

export function roleOf(e: Pick<Escrow, 'buyerId' | 'sellerId'>, userId: string | undefined): Role {
  if (userId && e.buyerId === userId) return 'buyer';
  if (userId && e.sellerId === userId) return 'seller';
  return 'observer';
}

export const ACTION_LABEL: Record<EscrowAction, string> = {
  confirm: 'Mark as paid',
  cancel: 'Cancel trade',
  release: 'Release crypto',
  dispute: 'Open dispute',
};

/** The contract: buyer confirms or cancels while awaiting payment; once paid the seller releases and either party may dispute. */
export function availableActions(status: EscrowStatus, role: Role): EscrowAction[] {
  if (status === 'awaiting_payment' && role === 'buyer') return ['confirm', 'cancel'];
  if (status === 'paid' && role === 'seller') return ['release', 'dispute'];
  if (status === 'paid' && role === 'buyer') return ['dispute'];
  return [];
}

export const STATUS_LABEL: Record<EscrowStatus, string> = {
  awaiting_payment: 'Awaiting payment',
  paid: 'Paid, awaiting release',
  disputed: 'In dispute',
  released: 'Released',
  cancelled: 'Cancelled',
  refunded: 'Refunded to seller',
};

export const isTerminal = (s: EscrowStatus) => s === 'released' || s === 'cancelled' || s === 'refunded';

/** The window running now, if any: payment before `paid`, release after. */
export function activeWindow(e: Escrow): { label: string; until: string } | null {
  if (e.status === 'awaiting_payment') return { label: 'Payment window closes in', until: e.paymentDeadline };
  if (e.status === 'paid' && e.releaseDeadline) return { label: 'Release window closes in', until: e.releaseDeadline };
  return null;
}

export interface Step {
  key: string;
  label: string;
  at: string | null;
  state: 'done' | 'current' | 'upcoming';
}

/** created → paid → (disputed) → released | cancelled | refunded, with times where known. */
export function timeline(e: Escrow): Step[] {
  const steps: Step[] = [{ key: 'created', label: 'Escrow opened, crypto held', at: e.createdAt, state: 'done' }];
  if (e.status === 'cancelled') {
    const why = e.cancelReason === 'payment_timeout' ? 'Cancelled: payment window ended' : 'Cancelled by the buyer';
    steps.push({ key: 'cancelled', label: why, at: e.cancelledAt ?? e.updatedAt, state: 'done' });
    return steps;
  }
  const paid = e.status !== 'awaiting_payment';
  steps.push({ key: 'paid', label: 'Buyer marked the payment as sent', at: e.paidAt ?? null, state: paid ? 'done' : 'current' });
  if (e.status === 'disputed' || e.disputedAt || e.status === 'refunded') {
    steps.push({ key: 'disputed', label: 'Dispute opened', at: e.disputedAt ?? e.dispute?.openedAt ?? null, state: e.status === 'disputed' ? 'current' : 'done' });
  }
  if (e.status === 'refunded') {
    steps.push({ key: 'refunded', label: 'Resolved: refunded to the seller', at: e.refundedAt ?? null, state: 'done' });
  } else {
    const state = e.status === 'released' ? 'done' : e.status === 'paid' ? 'current' : 'upcoming';
    steps.push({ key: 'released', label: 'Crypto released to the buyer', at: e.releasedAt ?? null, state });
  }
  return steps;
}

/** Keeps the newer of two views of one escrow (a late query answer must not undo a live update). */
export function newer(a: Escrow | null | undefined, b: Escrow | null | undefined): Escrow | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return Date.parse(b.updatedAt) >= Date.parse(a.updatedAt) ? b : a;
}

/** Checks an amount to take from an offer; returns a message or null when fine. */
export function checkAcceptAmount(amount: string, offer: Pick<Offer, 'minAmount' | 'maxAmount' | 'asset'>): string | null {
  if (!isDecimal(amount) || compareDecimal(amount, '0') !== 1) return 'Amount must be a positive decimal number';
  if (compareDecimal(amount, offer.minAmount) === -1) return `Amount must be at least ${offer.minAmount} ${offer.asset}`;
  if (compareDecimal(amount, offer.maxAmount) === 1) return `Amount must be at most ${offer.maxAmount} ${offer.asset}`;
  return null;
}

/** The fiat the buyer pays for `amount` at the offer's price, to 2 decimals (preview; the server computes the real one). */
export function fiatPreview(amount: string, price: string): string | null {
  if (!isDecimal(amount) || !isDecimal(price)) return null;
  return multiplyDecimal(amount, price, 2);
}

export interface OfferFilters {
  side: '' | 'buy' | 'sell';
  asset: string;
  fiatCurrency: string;
  paymentMethod: string;
  amount: string;
}

/** Only the filters that are set, as the query string of `GET /api/crypto/p2p/offers`. */
export function offerQuery(f: OfferFilters): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) {
    const t = String(v).trim();
    if (t) q[k] = k === 'fiatCurrency' ? t.toUpperCase() : t;
  }
  if (q.amount && !q.asset) delete q.amount; // the server needs the asset to compare amounts
  return q;
}

/** What the person on the other side of an offer does: a `sell` offer is bought by whoever accepts it. */
export const takerVerb = (o: Pick<Offer, 'side'>) => (o.side === 'sell' ? 'Buy' : 'Sell');
