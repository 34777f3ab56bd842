import { iso } from '../../core/database/sql';
import { AssetSymbol } from '../ledger/assets';
import { formatAmount } from '../ledger/money';
import { completionRate, EscrowActor, EscrowStatus } from './escrow.machine';
import { FIAT_DECIMALS, formatFiat, formatPrice, PRICE_DECIMALS, scaledFromDb } from './p2p.math';

/** What clients see. Money as decimal strings, times as ISO 8601. */

export interface ReputationView {
  completedTrades: number;
  failedTrades: number;
  completionRate: number | null;
}

export interface OfferView {
  id: string;
  userId: string;
  username: string;
  side: 'buy' | 'sell';
  asset: AssetSymbol;
  fiatCurrency: string;
  price: string;
  minAmount: string;
  maxAmount: string;
  paymentMethods: string[];
  paymentWindowSeconds: number;
  terms: string | null;
  status: 'active' | 'paused' | 'closed';
  reputation: ReputationView;
  createdAt: string;
  updatedAt: string;
}

export interface DisputeView {
  openedBy: string | null;
  openedByRole: 'buyer' | 'seller' | 'system';
  reason: string;
  evidence: string[];
  sealHash: string;
  sealedChatSeq: number;
  openedAt: string;
  outcome: 'release' | 'refund' | null;
  resolutionNote: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
}

export interface EscrowView {
  id: string;
  offerId: string | null;
  sellerId: string;
  buyerId: string;
  asset: AssetSymbol;
  amount: string;
  fee: string;
  price: string | null;
  fiatCurrency: string;
  fiatAmount: string;
  paymentMethod: string;
  paymentWindowSeconds: number;
  status: EscrowStatus;
  paymentDeadline: string;
  releaseDeadline: string | null;
  paidAt: string | null;
  disputedAt: string | null;
  releasedAt: string | null;
  cancelledAt: string | null;
  refundedAt: string | null;
  cancelReason: 'buyer_cancelled' | 'payment_timeout' | null;
  chatRoomId: string | null;
  dispute: DisputeView | null;
  createdAt: string;
  updatedAt: string;
}

export interface EscrowEventView {
  fromStatus: EscrowStatus | null;
  toStatus: EscrowStatus;
  actorId: string | null;
  actorRole: EscrowActor;
  note: string | null;
  at: string;
}

// ------------------------------------------------------------------ rows

export interface OfferRow {
  id: string;
  user_id: string;
  username: string;
  side: 'buy' | 'sell';
  asset: AssetSymbol;
  fiat_currency: string;
  price: string;
  min_amount: string;
  max_amount: string;
  payment_methods: string[] | string;
  payment_window_seconds: number;
  terms: string | null;
  status: 'active' | 'paused' | 'closed';
  completed_trades: number | null;
  failed_trades: number | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface EscrowRow {
  id: string;
  offer_id: string | null;
  seller_id: string;
  buyer_id: string;
  created_by: string;
  creation_key: string | null;
  asset: AssetSymbol;
  amount: string;
  fee: string;
  price: string | null;
  fiat_currency: string;
  fiat_amount: string;
  payment_method: string;
  payment_window_seconds: number;
  status: EscrowStatus;
  hold_id: string | null;
  release_transfer_id: string | null;
  fee_transfer_id: string | null;
  chat_room_id: string | null;
  payment_deadline: Date | string;
  release_deadline: Date | string | null;
  paid_at: Date | string | null;
  disputed_at: Date | string | null;
  released_at: Date | string | null;
  cancelled_at: Date | string | null;
  refunded_at: Date | string | null;
  cancel_reason: EscrowView['cancelReason'];
  created_at: Date | string;
  updated_at: Date | string;
  // the dispute (LEFT JOIN), prefixed d_
  d_escrow_id?: string | null;
  d_opened_by?: string | null;
  d_opened_by_role?: DisputeView['openedByRole'] | null;
  d_reason?: string | null;
  d_evidence?: string[] | null;
  d_seal_hash?: string | null;
  d_sealed_chat_seq?: string | number | null;
  d_opened_at?: Date | string | null;
  d_outcome?: DisputeView['outcome'];
  d_resolution_note?: string | null;
  d_resolved_by?: string | null;
  d_resolved_at?: Date | string | null;
}

/** An escrow with its dispute, as one row. */
export const ESCROW_SELECT = `
  SELECT e.*, d.escrow_id AS d_escrow_id, d.opened_by AS d_opened_by, d.opened_by_role AS d_opened_by_role,
         d.reason AS d_reason, d.evidence AS d_evidence, d.seal_hash AS d_seal_hash, d.sealed_chat_seq AS d_sealed_chat_seq,
         d.opened_at AS d_opened_at, d.outcome AS d_outcome, d.resolution_note AS d_resolution_note,
         d.resolved_by AS d_resolved_by, d.resolved_at AS d_resolved_at
  FROM p2p_escrows e LEFT JOIN p2p_disputes d ON d.escrow_id = e.id`;

export const OFFER_SELECT = `
  SELECT o.*, u.username, s.completed_trades, s.failed_trades
  FROM p2p_offers o
  JOIN users u ON u.id = o.user_id
  LEFT JOIN p2p_user_stats s ON s.user_id = o.user_id`;

/** pg returns varchar[] as a JS array; be tolerant of the text form ("{a,b}") too. */
export function pgArray(v: string[] | string): string[] {
  if (Array.isArray(v)) return v;
  const inner = v.replace(/^\{|\}$/g, '');
  if (!inner) return [];
  return inner.split(',').map((s) => s.replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1'));
}

export const priceText = (dbPrice: string) => formatPrice(scaledFromDb(dbPrice, PRICE_DECIMALS));
export const fiatText = (dbFiat: string) => formatFiat(scaledFromDb(dbFiat, FIAT_DECIMALS));

export function reputationView(completed: number | null | undefined, failed: number | null | undefined): ReputationView {
  const c = Number(completed ?? 0);
  const f = Number(failed ?? 0);
  return { completedTrades: c, failedTrades: f, completionRate: completionRate(c, f) };
}

export function toOfferView(r: OfferRow): OfferView {
  return {
    id: r.id,
    userId: r.user_id,
    username: r.username,
    side: r.side,
    asset: r.asset,
    fiatCurrency: r.fiat_currency,
    price: priceText(r.price),
    minAmount: formatAmount(BigInt(r.min_amount), r.asset),
    maxAmount: formatAmount(BigInt(r.max_amount), r.asset),
    paymentMethods: pgArray(r.payment_methods),
    paymentWindowSeconds: Number(r.payment_window_seconds),
    terms: r.terms,
    status: r.status,
    reputation: reputationView(r.completed_trades, r.failed_trades),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

export function toEscrowView(r: EscrowRow): EscrowView {
  return {
    id: r.id,
    offerId: r.offer_id,
    sellerId: r.seller_id,
    buyerId: r.buyer_id,
    asset: r.asset,
    amount: formatAmount(BigInt(r.amount), r.asset),
    fee: formatAmount(BigInt(r.fee), r.asset),
    price: r.price === null ? null : priceText(r.price),
    fiatCurrency: r.fiat_currency,
    fiatAmount: fiatText(r.fiat_amount),
    paymentMethod: r.payment_method,
    paymentWindowSeconds: Number(r.payment_window_seconds),
    status: r.status,
    paymentDeadline: iso(r.payment_deadline)!,
    releaseDeadline: iso(r.release_deadline),
    paidAt: iso(r.paid_at),
    disputedAt: iso(r.disputed_at),
    releasedAt: iso(r.released_at),
    cancelledAt: iso(r.cancelled_at),
    refundedAt: iso(r.refunded_at),
    cancelReason: r.cancel_reason,
    chatRoomId: r.chat_room_id,
    dispute: r.d_escrow_id
      ? {
          openedBy: r.d_opened_by ?? null,
          openedByRole: r.d_opened_by_role!,
          reason: r.d_reason!,
          evidence: r.d_evidence ?? [],
          sealHash: r.d_seal_hash!,
          sealedChatSeq: Number(r.d_sealed_chat_seq ?? 0),
          openedAt: iso(r.d_opened_at)!,
          outcome: r.d_outcome ?? null,
          resolutionNote: r.d_resolution_note ?? null,
          resolvedBy: r.d_resolved_by ?? null,
          resolvedAt: iso(r.d_resolved_at),
        }
      : null,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}
