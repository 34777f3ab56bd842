import { DomainError } from '../../../core/http/domain-error';
import { decodeCursor, encodeCursor, toPage } from './cursor';
import { guardIterator } from './iterators';

describe('opaque cursors', () => {
  it('round-trips values and is opaque base64url', () => {
    const c = encodeCursor('msg', ['b', 42]);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, 'msg', ['string', 'number'])).toEqual(['b', 42]);
  });

  it('refuses tampered, foreign and malformed cursors with a 400 naming cursor', () => {
    const foreign = encodeCursor('mine', ['2024-01-01 00:00:00+00', 'x']);
    const wrongShape = encodeCursor('msg', ['b', 'not-a-number']);
    const negative = encodeCursor('msg', ['b', -1]);
    for (const bad of [foreign, wrongShape, negative, 'not base64!', '', Buffer.from('{"a":1}').toString('base64url'), 'x'.repeat(600)]) {
      let err: unknown;
      try {
        decodeCursor(bad, 'msg', ['string', 'number']);
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
    expect(decodeCursor(encodeCursor('notif', [at, id]), 'notif', ['timestamp', 'uuid'])).toEqual([at, id]);
    for (const [t, u] of [
      ['yesterday', id],
      [at, 'x'],
      ["2025-11-27 10:00:00+00'; DROP TABLE users; --", id],
    ]) {
      expect(() => decodeCursor(encodeCursor('notif', [t, u]), 'notif', ['timestamp', 'uuid'])).toThrow(/cursor/);
    }
  });

  it('pages with limit + 1 rows: a cursor only when more rows exist', () => {
    const rows = [1, 2, 3, 4];
    expect(toPage(rows, 3, (r) => r * 10, (r) => `after-${r}`)).toEqual({ items: [10, 20, 30], nextCursor: 'after-3' });
    expect(toPage(rows, 4, (r) => r, String)).toEqual({ items: rows, nextCursor: null });
    expect(toPage([], 4, (r) => r, String)).toEqual({ items: [], nextCursor: null });
  });
});

describe('guardIterator', () => {
  function source<T>(values: T[]) {
    let closed = false;
    let i = 0;
    const it: AsyncIterator<T> & { closed: () => boolean } = {
      next: async () => (closed || i >= values.length ? { done: true, value: undefined } : { done: false, value: values[i++] }),
      return: async () => {
        closed = true;
        return { done: true, value: undefined };
      },
      closed: () => closed,
    };
    return it;
  }

  it('filters payloads and ends (closing the source) on a control payload', async () => {
    const src = source([1, 2, 3, -1, 4]);
    const it = guardIterator(src, { filter: (v) => v !== 2, endWhen: (v) => v < 0 });
    const seen: number[] = [];
    for await (const v of it) seen.push(v);
    expect(seen).toEqual([1, 3]);
    expect(src.closed()).toBe(true);
  });

  it('expands one payload into several, each filtered on its own', async () => {
    const src = source<number[] | number>([1, [2, 3, 4], 5]);
    const it = guardIterator<number[] | number>(src, {
      expand: (v) => (Array.isArray(v) ? v : null),
      filter: (v) => v !== 3,
    });
    const seen: (number[] | number)[] = [];
    for await (const v of it) seen.push(v);
    expect(seen).toEqual([1, 2, 4, 5]);
  });

  it('return() closes the source at once', async () => {
    const src = source([1, 2]);
    const it = guardIterator(src, {});
    await it.return!();
    expect(src.closed()).toBe(true);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});
