import { guardIterator } from './guard-iterator';

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
