import { formatAmount } from '../ledger/money';
import type { PaymentStatus } from './payment.machine';
import type { ProviderName } from './providers/provider';

export interface PaymentRow {
  id: string;
  user_id: string;
  provider: ProviderName;
  asset: 'USD';
  amount: string;
  status: PaymentStatus;
  creation_key: string | null;
  provider_ref: string | null;
  provider_payment_ref: string | null;
  checkout_url: string | null;
  client_secret: string | null;
  credited: string;
  reversed: string;
  refund_target: string;
  shortfall: string;
  flagged: boolean;
  flag_reasons: string[] | string;
  failure_reason: string | null;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

/** The contract's Payment (shapes.md), money as decimal strings. */
export interface PaymentView {
  id: string;
  userId: string;
  provider: ProviderName;
  asset: string;
  amount: string;
  status: PaymentStatus;
  checkoutUrl: string | null;
  clientSecret: string | null;
  providerRef: string | null;
  /** What the provider reported paid and was credited. */
  amountPaid: string;
  /** What refunds and disputes took back (or could not: see flagReasons). */
  amountRefunded: string;
  flagged: boolean;
  flagReasons: string[];
  failureReason: string | null;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** node-postgres returns text[] as an array; PGlite may hand back the literal. */
function textArray(v: string[] | string): string[] {
  if (Array.isArray(v)) return v;
  if (!v || v === '{}') return [];
  return v
    .slice(1, -1)
    .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((s) => s.replace(/^"|"$/g, '').replace(/\\"/g, '"'));
}

export function toPaymentView(r: PaymentRow): PaymentView {
  return {
    id: r.id,
    userId: r.user_id,
    provider: r.provider,
    asset: r.asset,
    amount: formatAmount(BigInt(r.amount), 'USD'),
    status: r.status,
    checkoutUrl: r.checkout_url,
    clientSecret: r.client_secret,
    providerRef: r.provider_ref,
    amountPaid: formatAmount(BigInt(r.credited), 'USD'),
    amountRefunded: formatAmount(BigInt(r.reversed), 'USD'),
    flagged: r.flagged,
    flagReasons: textArray(r.flag_reasons),
    failureReason: r.failure_reason,
    expiresAt: iso(r.expires_at)!,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    completedAt: iso(r.completed_at),
  };
}
