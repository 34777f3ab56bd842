import type { AssetSymbol } from './assets';

/** System accounts. `external` (the world outside: deposits in, withdrawals out) and
 * `issuance` (SOFT minted as rewards) may go negative; every other account may not. */
export const SYSTEM_PURPOSES = ['external', 'issuance', 'fees', 'escrow', 'rewards_pool', 'settlement'] as const;
export type SystemPurpose = (typeof SYSTEM_PURPOSES)[number];
export const NEGATIVE_ALLOWED: ReadonlySet<SystemPurpose> = new Set(['external', 'issuance']);

export type AccountRef = { userId: string } | { system: SystemPurpose };

export const accountKey = (ref: AccountRef, asset: AssetSymbol): string =>
  'userId' in ref ? `user:${ref.userId}:${asset}` : `system:${ref.system}:${asset}`;

export interface TransferInput {
  /** Idempotency key, namespaced by the caller (e.g. `wallet-transfer:<userId>:<key>`, `trade:<tradeId>:base`). */
  key: string;
  kind: string;
  from: AccountRef;
  to: AccountRef;
  asset: AssetSymbol;
  amount: bigint;
  reference?: string | null;
  metadata?: Record<string, unknown> | null;
}

export interface TransferRecord {
  id: string;
  kind: string;
  asset: AssetSymbol;
  amount: bigint;
  debitAccountId: string;
  creditAccountId: string;
  reference: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: Date;
  /** True when the key had been used already: nothing moved this time. */
  replayed: boolean;
  /** Users whose balances this movement touched (for live updates). */
  userIds: string[];
}

export interface HoldInput {
  key: string;
  kind: string;
  account: AccountRef;
  asset: AssetSymbol;
  amount: bigint;
  reference?: string | null;
}

export interface HoldRecord {
  id: string;
  accountId: string;
  asset: AssetSymbol;
  amount: bigint;
  remaining: bigint;
  status: 'pending' | 'posted' | 'voided';
  kind: string;
  reference: string | null;
  replayed: boolean;
  userId: string | null;
}

export interface PostHoldInput {
  key: string;
  holdId: string;
  amount: bigint;
  to: AccountRef;
  kind: string;
  /** Release whatever is left of the hold after this posting. */
  final?: boolean;
  reference?: string | null;
  metadata?: Record<string, unknown> | null;
}

export interface Balance {
  asset: AssetSymbol;
  available: bigint;
  held: bigint;
  total: bigint;
}

/** A posting from a hold inside a batch (`LedgerService.postMany`): as PostHoldInput, plus the hold's asset (checked). */
export interface PostHoldItem extends PostHoldInput {
  asset: AssetSymbol;
}

/**
 * One leg of a batch: a plain transfer, or a posting from a hold. In a linked group a leg may
 * take the previous leg's transfer id as its reference (`referencePrevious`: a fee names its transfer).
 */
export type PostItem = (TransferInput | PostHoldItem) & { referencePrevious?: boolean };

/** What one linked group of a batch came to: its transfers (in leg order), or the error that refused it (nothing of it posted). */
export type PostOutcome = { ok: true; transfers: TransferRecord[] } | { ok: false; error: Error };
