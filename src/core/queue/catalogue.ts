/**
 * Every BullMQ queue and job the app knows. A job added here must have exactly one
 * @JobHandler, and a handler must name a job listed here: both are checked at boot.
 */
export const QUEUE_CATALOGUE = {
  maintenance: ['purge-refresh-tokens', 'purge-idempotency-keys'],
} as const;

export type QueueName = keyof typeof QUEUE_CATALOGUE;
export type JobName<Q extends QueueName> = (typeof QUEUE_CATALOGUE)[Q][number];

/** Per-queue worker settings; defaults apply when absent. */
export const QUEUE_SETTINGS: Partial<Record<QueueName, { concurrency?: number }>> = {
  maintenance: { concurrency: 1 },
};
