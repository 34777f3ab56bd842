/**
 * Every BullMQ queue and job the app knows. A job added here must have exactly one
 * @JobHandler, and a handler must name a job listed here: both are checked at boot.
 */
export const QUEUE_CATALOGUE = {
  maintenance: ['purge-refresh-tokens', 'purge-idempotency-keys'],
  notifications: ['dispatch', 'deliver'],
  trading: ['expire-order'],
  prices: ['refresh'],
  p2p: ['payment-window', 'release-window', 'sweep'],
  rewards: ['payout'],
  battles: ['end', 'sweep'],
  creator: ['publish-stats'],
  payments: ['reconcile', 'settle'],
  outbox: ['deliver', 'sweep'],
} as const;

export type QueueName = keyof typeof QUEUE_CATALOGUE;
export type JobName<Q extends QueueName> = (typeof QUEUE_CATALOGUE)[Q][number];

/** Per-queue worker settings; defaults apply when absent. */
export const QUEUE_SETTINGS: Partial<Record<QueueName, { concurrency?: number }>> = {
  // Payouts wait on the database, not the CPU: more in flight keeps the pool account busy.
  rewards: { concurrency: 16 },
  maintenance: { concurrency: 1 },
  prices: { concurrency: 1 },
};
