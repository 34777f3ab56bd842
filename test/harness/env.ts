/** Where the e2e suite finds its services (the machine's Postgres and Redis by default). */
export const TEST_PG_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Each jest run has its own id (set by global-setup), so concurrent runs on one machine never
 * touch each other's template or databases.
 */
export const runId = () => process.env.SOFTCHAT_TEST_RUN ?? 'local';
export const templateDb = () => `softchat_tpl_${runId()}`;
export const testDbPrefix = () => `softchat_t_${runId()}_`;

export function dbUrl(name: string): string {
  const u = new URL(TEST_PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}
