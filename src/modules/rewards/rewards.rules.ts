/**
 * Pure reward rules: what a trigger's outcome is called on the wire and how a refusal is
 * explained. No database, no Nest.
 */

/** What the `reward_trigger` SQL function answers. */
export type DbTriggerStatus = 'unknown' | 'duplicate' | 'disabled' | 'pool_exhausted' | 'budget_exhausted' | 'cooldown' | 'capped' | 'queued';

/** The contract's statuses (`POST /api/rewards/trigger`). */
export type TriggerStatus = 'queued' | 'duplicate' | 'capped' | 'cooldown' | 'disabled';

export const ACTION_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
/** A target is any printable ASCII id (a post id, a URL path...) up to 200 characters. */
export const TARGET_PATTERN = /^[\x21-\x7e]{1,200}$/;

export interface RuleFacts {
  action: string;
  dailyCap: number;
  cooldownSeconds: number;
}

export function wireStatus(s: Exclude<DbTriggerStatus, 'unknown'>): TriggerStatus {
  if (s === 'pool_exhausted') return 'disabled';
  // A creator's daily budget is a daily cap too (on what all of the creator's videos pay).
  if (s === 'budget_exhausted') return 'capped';
  return s;
}

/** A sentence for the client; undefined when the reward was queued. */
export function refusalReason(s: Exclude<DbTriggerStatus, 'unknown'>, rule: RuleFacts, retryAfterSeconds: number | null): string | undefined {
  switch (s) {
    case 'queued':
      return undefined;
    case 'duplicate':
      return `This ${rule.action} was already rewarded for this target`;
    case 'disabled':
      return `Rewards for ${rule.action} are disabled`;
    case 'pool_exhausted':
      return 'The rewards pool cannot cover this reward right now; rewards are paused until it is refilled';
    case 'budget_exhausted':
      return "This creator's videos have paid out their daily reward budget; it resets at 00:00 UTC";
    case 'cooldown':
      return `Wait ${retryAfterSeconds ?? rule.cooldownSeconds} s before the next ${rule.action} reward (cooldown ${rule.cooldownSeconds} s)`;
    case 'capped':
      return `Daily limit of ${rule.dailyCap} ${rule.action} reward${rule.dailyCap === 1 ? '' : 's'} reached; it resets at 00:00 UTC`;
  }
}

/** The UTC calendar day of an instant, `YYYY-MM-DD` (daily caps count per UTC day). */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Integer division rounding down, for "per day" figures of bigint amounts. */
export function perDay(total: bigint, days: number): bigint {
  return days > 0 ? total / BigInt(days) : 0n;
}

/** Days the pool lasts at the given burn rate (one decimal), or null when nothing is burnt. */
export function runwayDays(balance: bigint, burnPerDay: bigint): number | null {
  if (burnPerDay <= 0n) return null;
  return Number((balance * 10n) / burnPerDay) / 10;
}
