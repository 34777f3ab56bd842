import type { AccountRef } from '../ledger/ledger.types';
import { accountKey } from '../ledger/ledger.types';

/** SOFT, the platform's reward token (8 decimals). */
export const REWARD_ASSET = 'SOFT' as const;

/** Rewards are paid from this account; it is funded by minting from `issuance`. */
export const REWARDS_POOL: AccountRef = { system: 'rewards_pool' };
export const ISSUANCE: AccountRef = { system: 'issuance' };
export const POOL_ACCOUNT_KEY = accountKey(REWARDS_POOL, REWARD_ASSET);

/** Ledger idempotency keys and movement kinds. */
export const payoutKey = (rewardId: string) => `reward:${rewardId}`;
export const POOL_SEED_KEY = 'rewards-pool:seed';
export const poolFundKey = (reference: string) => `rewards-pool:fund:${reference}`;
export const PAYOUT_KIND = 'reward';
export const POOL_FUNDING_KIND = 'rewards_pool_funding';

/** Actions the videos module grants after verifying watch sessions. */
export const WATCH_MILESTONE_ACTION = 'watch_milestone';
export const AD_VIEW_ACTION = 'ad_view';
