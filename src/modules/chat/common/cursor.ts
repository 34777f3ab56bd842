import { badRequest } from '../../../core/http/domain-error';

/**
 * Opaque list cursors: base64url of a small versioned JSON tuple. Clients must not build
 * them; a tampered or foreign cursor is a 400 naming `cursor`, never a 500.
 */
export type CursorValue = (string | number)[];

export function encodeCursor(kind: string, values: CursorValue): string {
  return Buffer.from(JSON.stringify([1, kind, ...values]), 'utf8').toString('base64url');
}

type Slot = 'string' | 'number' | 'uuid' | 'timestamp';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Postgres timestamptz text output, e.g. "2025-11-27 10:00:00.123456+00".
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2}){0,2}|Z)?$/;

function fits(slot: Slot, v: unknown): boolean {
  switch (slot) {
    case 'number':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    case 'uuid':
      return typeof v === 'string' && UUID.test(v);
    case 'timestamp':
      return typeof v === 'string' && PG_TIMESTAMP.test(v);
    default:
      return typeof v === 'string' && v.length <= 100;
  }
}

export function decodeCursor(cursor: string, kind: string, shape: Slot[]): CursorValue {
  const invalid = () => badRequest(['cursor is invalid or expired; pass back the nextCursor of a previous page']);
  if (typeof cursor !== 'string' || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed[0] !== 1 || parsed[1] !== kind || parsed.length !== shape.length + 2) throw invalid();
  const values = parsed.slice(2) as CursorValue;
  shape.forEach((slot, i) => {
    if (!fits(slot, values[i])) throw invalid();
  });
  return values;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** Takes `limit + 1` fetched rows and turns them into a page whose cursor points after the last item. */
export function toPage<R, T>(fetched: R[], limit: number, map: (r: R) => T, cursorOf: (r: R) => string): Page<T> {
  const more = fetched.length > limit;
  const slice = more ? fetched.slice(0, limit) : fetched;
  return { items: slice.map(map), nextCursor: more && slice.length ? cursorOf(slice[slice.length - 1]) : null };
}
