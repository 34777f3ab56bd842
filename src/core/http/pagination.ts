import { badRequest } from './domain-error';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** `?limit=`: default 50, at most 200; anything else is a 400 naming the parameter. */
export function parseLimit(raw: unknown, def = 50, max = 200): number {
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

/** Takes `limit + 1` rows and builds the page. */
export function toPage<R, T>(rows: R[], limit: number, map: (r: R) => T, cursorOf: (r: R) => unknown): Page<T> {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  return { items: slice.map(map), nextCursor: more ? encodeCursor(cursorOf(slice[slice.length - 1])) : null };
}
