/**
 * Pure rules of opening an escrow: which payment method a taker gets, the limits on buyers who
 * take offers, and when an Idempotency-Key replay is the same escrow. No database, no Nest.
 */
import { badRequest, unprocessable } from '../../core/http/domain-error';
import type { AssetSymbol } from '../ledger/assets';
import { FIAT_DECIMALS, scaledFromDb } from './p2p.math';
import type { EscrowRow } from './p2p.views';

/** The terms of an escrow about to be opened. */
export interface NewEscrow {
  createdBy: string;
  creatorRole: 'buyer' | 'seller';
  creationKey: string | null;
  offerId: string | null;
  sellerId: string;
  buyerId: string;
  asset: AssetSymbol;
  amount: bigint;
  priceE8: bigint | null;
  fiatCurrency: string;
  fiatCents: bigint;
  paymentMethod: string;
  windowSeconds: number;
}

/** The offer's method matching `requested` (case-insensitive), or its only one; 400 otherwise. */
export function pickPaymentMethod(methods: string[], requested: string | undefined): string {
  if (requested !== undefined) {
    const method = methods.find((m) => m.toLowerCase() === requested.trim().toLowerCase());
    if (!method) throw badRequest(`paymentMethod must be one of the offer's: ${methods.join(', ')}`);
    return method;
  }
  if (methods.length === 1) return methods[0];
  throw badRequest(`paymentMethod is required: one of ${methods.join(', ')}`);
}

/**
 * A buyer who takes offers may hold at most P2P_MAX_OPEN_ESCROWS_PER_BUYER unpaid escrows and
 * abandon (cancel, or let lapse) at most P2P_MAX_CANCELLATIONS_PER_DAY a day: nobody can lock
 * sellers' funds by accepting over and over.
 */
export function checkBuyerLimits(c: { open: number; abandoned: number }, limits: { maxOpenEscrowsPerBuyer: number; maxCancellationsPerDay: number }): void {
  const { maxOpenEscrowsPerBuyer: maxOpen, maxCancellationsPerDay: maxCancelled } = limits;
  if (c.open >= maxOpen) {
    throw unprocessable(`You already have ${c.open} unpaid trades (the limit is ${maxOpen}); pay or cancel one first`, { reason: 'too_many_open_escrows', limit: maxOpen });
  }
  if (c.abandoned >= maxCancelled) {
    throw unprocessable(`You cancelled or let lapse ${c.abandoned} trades in the last 24 hours (the limit is ${maxCancelled}); try again later`, {
      reason: 'too_many_cancellations',
      limit: maxCancelled,
    });
  }
}

/** A replay of the same Idempotency-Key must carry the same terms as the escrow it first opened. */
export function sameTerms(prev: EscrowRow, n: NewEscrow): boolean {
  return (
    prev.offer_id === n.offerId &&
    prev.seller_id === n.sellerId &&
    prev.buyer_id === n.buyerId &&
    prev.asset === n.asset &&
    BigInt(prev.amount) === n.amount &&
    prev.fiat_currency === n.fiatCurrency &&
    scaledFromDb(prev.fiat_amount, FIAT_DECIMALS) === n.fiatCents &&
    prev.payment_method === n.paymentMethod &&
    Number(prev.payment_window_seconds) === n.windowSeconds
  );
}
