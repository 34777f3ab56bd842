import { DomainError } from './domain-error';
import { decodeCursor, decodeKindCursor, encodeCursor, kindCursor, toPage } from './pagination';

const encodeKind = (kind: string, values: (string | number)[]) => encodeCursor(kindCursor(kind, values));

describe('kinded cursors', () => {
  it('round-trips values and is opaque base64url', () => {
    const c = encodeKind('msg', ['b', 42]);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeKindCursor(c, 'msg', ['string', 'number'])).toEqual(['b', 42]);
  });

  it('refuses tampered, foreign and malformed cursors with a 400 naming cursor', () => {
    const foreign = encodeKind('mine', ['2024-01-01 00:00:00+00', 'x']);
    const wrongShape = encodeKind('msg', ['b', 'not-a-number']);
    const negative = encodeKind('msg', ['b', -1]);
    for (const bad of [foreign, wrongShape, negative, 'not base64!', '', Buffer.from('{"a":1}').toString('base64url'), 'x'.repeat(600)]) {
      let err: unknown;
      try {
        decodeKindCursor(bad, 'msg', ['string', 'number']);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('BAD_REQUEST');
      expect((err as DomainError).message).toMatch(/cursor/);
    }
  });

  it('checks uuid and Postgres timestamp slots before any query sees them', () => {
    const at = '2025-11-27 10:00:00.123456+00';
    const id = 'c9a7f1c2-6d1e-4b8e-9a55-2f0d7f1e3b10';
    expect(decodeKindCursor(encodeKind('notif', [at, id]), 'notif', ['timestamp', 'uuid'])).toEqual([at, id]);
    for (const [t, u] of [
      ['yesterday', id],
      [at, 'x'],
      ["2025-11-27 10:00:00+00'; DROP TABLE users; --", id],
    ]) {
      expect(() => decodeKindCursor(encodeKind('notif', [t, u]), 'notif', ['timestamp', 'uuid'])).toThrow(/cursor/);
    }
  });

  it('pages with limit + 1 rows: a cursor only when more rows exist', () => {
    const rows = [1, 2, 3, 4];
    expect(toPage(rows, 3, (r) => r * 10, (r) => `after-${r}`)).toEqual({ items: [10, 20, 30], nextCursor: encodeCursor('after-3') });
    expect(toPage(rows, 4, (r) => r, String)).toEqual({ items: rows, nextCursor: null });
    expect(toPage([], 4, (r) => r, String)).toEqual({ items: [], nextCursor: null });
  });
});

describe('plain cursors', () => {
  const isPair = (v: unknown): v is [string, number] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number';

  it('round-trips a checked value and refuses others with a 400 naming cursor', () => {
    expect(decodeCursor(encodeCursor(['a', 1]), isPair)).toEqual(['a', 1]);
    expect(decodeCursor(undefined, isPair)).toBeUndefined();
    for (const bad of [encodeCursor(['a', 'b']), 'not base64!', encodeCursor({ a: 1 })]) expect(() => decodeCursor(bad, isPair)).toThrow(/cursor/);
  });
});
