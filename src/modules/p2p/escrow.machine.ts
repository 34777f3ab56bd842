/**
 * The escrow state machine of the contract, and nothing else. Pure: no database, no Nest.
 *
 *   awaiting_payment ──confirm (buyer)──────────▶ paid ──release (seller)──────────▶ released
 *          │                                       │
 *          ├─cancel (buyer)──────────▶ cancelled    ├─dispute (buyer|seller)─┐
 *          └─payment window ends (system)─▶ cancelled└─release window ends (system)─▶ disputed
 *                                                                            disputed ──resolve release (admin)─▶ released
 *                                                                            disputed ──resolve refund (admin)──▶ refunded
 *
 * Who may ask is checked before the state (a buyer asking to release is refused as forbidden
 * whatever the state; a seller releasing twice meets a conflict). Money follows the target state:
 * `released` posts the hold to the buyer, `cancelled` and `refunded` void it.
 */

export const ESCROW_STATUSES = ['awaiting_payment', 'paid', 'disputed', 'released', 'cancelled', 'refunded'] as const;
export type EscrowStatus = (typeof ESCROW_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<EscrowStatus> = new Set(['released', 'cancelled', 'refunded']);

export type EscrowActor = 'buyer' | 'seller' | 'admin' | 'system';

export type EscrowAction =
  | 'confirm'
  | 'cancel'
  | 'expire_payment'
  | 'release'
  | 'dispute'
  | 'expire_release'
  | 'resolve_release'
  | 'resolve_refund';

export interface Transition {
  from: EscrowStatus;
  to: EscrowStatus;
  actors: readonly EscrowActor[];
  /** What happens to the seller's hold. */
  money: 'none' | 'post_to_buyer' | 'void';
  /** Words for messages: "cannot <verb> an escrow that is <status>". */
  verb: string;
}

export const TRANSITIONS: Readonly<Record<EscrowAction, Transition>> = {
  confirm: { from: 'awaiting_payment', to: 'paid', actors: ['buyer'], money: 'none', verb: 'mark as paid' },
  cancel: { from: 'awaiting_payment', to: 'cancelled', actors: ['buyer'], money: 'void', verb: 'cancel' },
  expire_payment: { from: 'awaiting_payment', to: 'cancelled', actors: ['system'], money: 'void', verb: 'expire the payment window of' },
  release: { from: 'paid', to: 'released', actors: ['seller'], money: 'post_to_buyer', verb: 'release' },
  dispute: { from: 'paid', to: 'disputed', actors: ['buyer', 'seller'], money: 'none', verb: 'dispute' },
  expire_release: { from: 'paid', to: 'disputed', actors: ['system'], money: 'none', verb: 'expire the release window of' },
  resolve_release: { from: 'disputed', to: 'released', actors: ['admin'], money: 'post_to_buyer', verb: 'resolve' },
  resolve_refund: { from: 'disputed', to: 'refunded', actors: ['admin'], money: 'void', verb: 'resolve' },
};

export type Decision =
  | { ok: true; to: EscrowStatus; transition: Transition }
  | { ok: false; error: 'forbidden' | 'conflict'; message: string };

const WHO: Record<EscrowAction, string> = {
  confirm: 'Only the buyer can mark an escrow as paid',
  cancel: 'Only the buyer can cancel an escrow (before paying)',
  expire_payment: 'Only the system ends a payment window',
  release: 'Only the seller can release an escrow',
  dispute: 'Only the buyer or the seller can open a dispute',
  expire_release: 'Only the system ends a release window',
  resolve_release: 'Only an admin can resolve a dispute',
  resolve_refund: 'Only an admin can resolve a dispute',
};

/**
 * Decides an action. `actors` are the caller's capacities for this escrow (e.g. ['seller'],
 * or ['buyer', 'admin'] for an admin who is also the buyer): permission first, then state.
 */
export function decide(action: EscrowAction, actors: readonly EscrowActor[], status: EscrowStatus): Decision {
  const t = TRANSITIONS[action];
  if (!t.actors.some((a) => actors.includes(a))) return { ok: false, error: 'forbidden', message: WHO[action] };
  if (status !== t.from) {
    return { ok: false, error: 'conflict', message: `Cannot ${t.verb} an escrow that is ${status.replace('_', ' ')}` };
  }
  return { ok: true, to: t.to, transition: t };
}

/** Every status reachable in one step from `status` (for documentation and tests). */
export function nextStatuses(status: EscrowStatus): EscrowStatus[] {
  return [...new Set(Object.values(TRANSITIONS).filter((t) => t.from === status).map((t) => t.to))];
}

/**
 * Reputation counters a terminal status adds. A completed trade counts for both parties; a
 * trade that ends without the crypto changing hands counts against the buyer (cancelled or
 * let the payment window lapse; or an arbitrator refunded the seller after the buyer's claim
 * of payment was not upheld).
 */
export function statsDelta(to: EscrowStatus): { completed: ('buyer' | 'seller')[]; failed: ('buyer' | 'seller')[] } {
  if (to === 'released') return { completed: ['buyer', 'seller'], failed: [] };
  if (to === 'cancelled' || to === 'refunded') return { completed: [], failed: ['buyer'] };
  return { completed: [], failed: [] };
}

/** completed / (completed + failed), 4 decimals; null before the first finished trade. */
export function completionRate(completed: number, failed: number): number | null {
  const total = completed + failed;
  if (total === 0) return null;
  return Math.round((completed / total) * 10_000) / 10_000;
}
