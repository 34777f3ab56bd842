import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Runs one SQL statement and returns its rows, whatever the command. (TypeORM's plain
 * `query()` returns `[rows, count]` for UPDATE/DELETE and rows otherwise.)
 */
export async function rows<T = Record<string, unknown>>(on: DataSource | QueryRunner, sql: string, params: unknown[] = []): Promise<T[]> {
  if (isRunner(on)) return ((await on.query(sql, params, true)) as { records: T[] }).records;
  const runner = on.createQueryRunner();
  try {
    return ((await runner.query(sql, params, true)) as { records: T[] }).records;
  } finally {
    await runner.release();
  }
}

const isRunner = (on: DataSource | QueryRunner): on is QueryRunner => typeof (on as QueryRunner).release === 'function';

/** Runs `fn` in one transaction on its own connection; rolls back when it throws. */
export async function inTransaction<T>(ds: DataSource, fn: (q: QueryRunner) => Promise<T>): Promise<T> {
  const q = ds.createQueryRunner();
  await q.connect();
  await q.startTransaction();
  try {
    const out = await fn(q);
    await q.commitTransaction();
    return out;
  } catch (e) {
    if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
    throw e;
  } finally {
    await q.release();
  }
}

/** A Postgres error code (TypeORM copies the driver's fields onto QueryFailedError). */
export function pgCode(e: unknown): { code?: string; constraint?: string } {
  const err = e as { code?: unknown; constraint?: unknown; driverError?: { code?: string; constraint?: string } };
  return {
    code: typeof err?.code === 'string' ? err.code : err?.driverError?.code,
    constraint: typeof err?.constraint === 'string' ? err.constraint : err?.driverError?.constraint,
  };
}

/** bigint columns arrive as strings; sequences stay far below 2^53. */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
