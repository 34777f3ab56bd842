/**
 * Group commit per key: items submitted for a key while a write for that key is in flight
 * are written together by the next call, in submission order. Nothing waits on a timer: a
 * lone item is written at once, and under load the batches grow by themselves (at most
 * `max` items each). Writes for one key never overlap; different keys run in parallel.
 *
 * `write` returns one result per item, in the same order; if it throws, every item of that
 * batch is rejected with the error and the next batch still runs.
 */
export class KeyedBatcher<I, O> {
  private readonly queues = new Map<string, { items: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] }>();

  constructor(
    private readonly write: (key: string, items: I[]) => Promise<O[]>,
    private readonly max = 256,
  ) {}

  submit(key: string, item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      let q = this.queues.get(key);
      const idle = !q;
      if (!q) {
        q = { items: [] };
        this.queues.set(key, q);
      }
      q.items.push({ item, resolve, reject });
      if (idle) void this.drain(key, q);
    });
  }

  /** Keys with a write in flight or queued (for tests and metrics). */
  get activeKeys(): number {
    return this.queues.size;
  }

  private async drain(key: string, q: { items: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] }) {
    while (q.items.length) {
      const batch = q.items.splice(0, this.max);
      try {
        const out = await this.write(
          key,
          batch.map((b) => b.item),
        );
        if (out.length !== batch.length) throw new Error(`batch writer returned ${out.length} results for ${batch.length} items`);
        batch.forEach((b, i) => b.resolve(out[i]));
      } catch (e) {
        batch.forEach((b) => b.reject(e));
      }
    }
    this.queues.delete(key);
  }
}
