import { badRequest } from './domain-error';
import { isUUID } from 'class-validator';

/**
 * List pages and their opaque cursors: base64url JSON, validated on the way back in. Clients
 * must not build cursors; a tampered or foreign one is a 400 naming `cursor`, never a 500.
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** `?limit=`: default 50, at most 200; anything else is a 400 naming the parameter. */
export function parseLimit(raw: unknown, def = DEFAULT_LIMIT, max = MAX_LIMIT): number {
  if (raw === undefined || raw === null || raw === '') return def;
  const s = String(raw);
  if (!/^\d+$/.test(s)) throw badRequest(`limit must be an integer between 1 and ${max}`);
  const n = Number(s);
  if (n < 1 || n > max) throw badRequest(`limit must be an integer between 1 and ${max}`);
  return n;
}

/** Opaque cursors: base64url JSON, validated on the way back in. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(raw: unknown, check: (v: unknown) => v is T): T | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(String(raw), 'base64url').toString('utf8'));
    if (check(v)) return v;
  } catch {
    /* fall through */
  }
  throw badRequest('cursor is invalid');
}

/** Takes `limit + 1` rows and builds the page; the cursor is `cursorOf(last item)`, encoded. */
export function toPage<R, T>(rows: R[], limit: number, map: (r: R) => T, cursorOf: (r: R) => unknown): Page<T> {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  return { items: slice.map(map), nextCursor: more && slice.length ? encodeCursor(cursorOf(slice[slice.length - 1])) : null };
}

// ---------------------------------------------------------------------------- kinded cursors

/**
 * A cursor tagged with its list's kind and checked slot by slot: `[1, kind, ...values]` (1 is
 * the format version). A cursor of another list, or with a value of the wrong shape, is refused
 * before any query sees it. Pass `kindCursor(...)` as `toPage`'s `cursorOf`.
 */
export type CursorValue = (string | number)[];
export type CursorSlot = 'string' | 'number' | 'uuid' | 'timestamp';

export const kindCursor = (kind: string, values: CursorValue): unknown[] => [1, kind, ...values];

// Postgres timestamptz text output, e.g. "2025-11-27 10:00:00.123456+00".
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2}){0,2}|Z)?$/;

function fits(slot: CursorSlot, v: unknown): boolean {
  switch (slot) {
    case 'number':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    case 'uuid':
      return typeof v === 'string' && isUUID(v);
    case 'timestamp':
      return typeof v === 'string' && PG_TIMESTAMP.test(v);
    default:
      return typeof v === 'string' && v.length <= 100;
  }
}

export const invalidCursor = () => badRequest(['cursor is invalid or expired; pass back the nextCursor of a previous page']);

/** Decodes a `kindCursor` of `kind` whose values fit `shape`; a 400 naming `cursor` otherwise. */
export function decodeKindCursor(cursor: string, kind: string, shape: CursorSlot[]): CursorValue {
  if (typeof cursor !== 'string' || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed[0] !== 1 || parsed[1] !== kind || parsed.length !== shape.length + 2) throw invalidCursor();
  const values = parsed.slice(2) as CursorValue;
  shape.forEach((slot, i) => {
    if (!fits(slot, values[i])) throw invalidCursor();
  });
  return values;
}
