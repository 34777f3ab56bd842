import { KeyedBatcher } from './keyed-batcher';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyedBatcher', () => {
  it('writes a lone item at once, and items arriving meanwhile together, in order', async () => {
    const calls: [string, number[]][] = [];
    const gate = deferred<void>();
    const b = new KeyedBatcher<number, string>(async (key, items) => {
      calls.push([key, items]);
      if (calls.length === 1) await gate.promise;
      return items.map((i) => `${key}:${i}`);
    });
    const first = b.submit('r1', 1);
    const queued = [b.submit('r1', 2), b.submit('r1', 3), b.submit('r1', 4)];
    expect(calls).toEqual([['r1', [1]]]);
    gate.resolve();
    expect(await first).toBe('r1:1');
    expect(await Promise.all(queued)).toEqual(['r1:2', 'r1:3', 'r1:4']);
    expect(calls).toEqual([
      ['r1', [1]],
      ['r1', [2, 3, 4]],
    ]);
    expect(b.activeKeys).toBe(0);
  });

  it('runs different keys in parallel and never overlaps writes of one key', async () => {
    let inFlight = new Map<string, number>();
    let maxPerKey = 0;
    const b = new KeyedBatcher<number, number>(async (key, items) => {
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      maxPerKey = Math.max(maxPerKey, inFlight.get(key)!);
      await new Promise((r) => setTimeout(r, 2));
      inFlight.set(key, inFlight.get(key)! - 1);
      return items.map((i) => i * 2);
    }, 3);
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => b.submit(`k${i % 2}`, i)));
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(maxPerKey).toBe(1);
    inFlight = new Map();
  });

  it('caps batch size and rejects only the batch whose write failed', async () => {
    const sizes: number[] = [];
    const gate = deferred<void>();
    const b = new KeyedBatcher<number, number>(async (_k, items) => {
      sizes.push(items.length);
      if (sizes.length === 1) await gate.promise;
      if (items.includes(3)) throw new Error('boom');
      return items;
    }, 2);
    const first = b.submit('k', 0);
    const rest = [1, 2, 3, 4, 5].map((i) => b.submit('k', i).then((v) => ({ v }), (e: Error) => ({ e: e.message })));
    gate.resolve();
    await first;
    expect(await Promise.all(rest)).toEqual([{ v: 1 }, { v: 2 }, { e: 'boom' }, { e: 'boom' }, { v: 5 }]);
    expect(sizes).toEqual([1, 2, 2, 1]);
  });
});
