import type { DataSource, QueryRunner } from 'typeorm';
import type { Tx } from './transaction';

/**
 * Runs one SQL statement and returns its rows, whatever the command. (TypeORM's plain
 * `query()` returns `[rows, count]` for UPDATE/DELETE and rows otherwise.) On a `Tx`, inside
 * its transaction.
 */
export async function rows<T = Record<string, unknown>>(on: DataSource | QueryRunner | Tx, sql: string, params: unknown[] = []): Promise<T[]> {
  if (isTx(on)) return (await on.run<T>(sql, params)).rows;
  if (isRunner(on)) return ((await on.query(sql, params, true)) as { records: T[] }).records;
  const runner = on.createQueryRunner();
  try {
    return ((await runner.query(sql, params, true)) as { records: T[] }).records;
  } finally {
    await runner.release();
  }
}

const isRunner = (on: DataSource | QueryRunner | Tx): on is QueryRunner => typeof (on as QueryRunner).release === 'function';
const isTx = (on: DataSource | QueryRunner | Tx): on is Tx => typeof (on as Tx).afterCommit === 'function';

/** The constraint a Postgres error names (TypeORM copies the driver's fields onto QueryFailedError). */
export function pgConstraint(e: unknown): string | undefined {
  const err = e as { constraint?: unknown; driverError?: { constraint?: unknown } };
  const c = err?.constraint ?? err?.driverError?.constraint;
  return typeof c === 'string' ? c : undefined;
}

/** bigint columns arrive as strings; sequences stay far below 2^53. */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();

/** numeric(78,0) minor units (strings from pg) to bigint. */
export const big = (v: unknown): bigint => (v === null || v === undefined ? 0n : BigInt(String(v)));
