/** Small conversions of values as node-postgres returns them. */

export const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();

/** `count(*)` and other bigint aggregates arrive as strings; these stay far below 2^53. */
export const int = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** numeric(78,0) minor units (strings from pg) to bigint. */
export const big = (v: unknown): bigint => (v === null || v === undefined ? 0n : BigInt(String(v)));
