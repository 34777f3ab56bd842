/**
 * The group-commit queue of placements, per pair. Orders for a pair that arrive while its writer
 * is busy wait here, and the next turn of the pair's writer takes them all (up to `maxBatch`)
 * into ONE transaction. What a turn could not take (over `maxBatch`, or handed back by `process`
 * as deferred) goes back to the HEAD of the queue, ahead of later arrivals, for the next turn.
 *
 * Hand-written rather than a library: it must hand its turns to the pair's in-process writer
 * lock (`schedule`, BookCacheService.exclusive), so cancels and replaces of the pair queue in the
 * same line; a generic batching library would run its own timer-driven loop beside that lock.
 * Pure: no database, no Nest (unit-tested in group-commit.queue.spec.ts).
 */
export class GroupCommitQueue<T> {
  private readonly queued = new Map<string, T[]>();

  constructor(
    private readonly opts: {
      maxBatch: number;
      /** Runs `turn` when the key's writer is free (in line with the key's other writes). */
      schedule: (key: string, turn: () => Promise<void>) => void;
      /** Processes one batch; returns the items it did not take (they go first next turn). */
      process: (key: string, batch: T[]) => Promise<T[] | void>;
    },
  ) {}

  /** Queues an item; the first item of an empty queue schedules a turn. */
  push(key: string, item: T) {
    let list = this.queued.get(key);
    if (!list) {
      list = [];
      this.queued.set(key, list);
      this.opts.schedule(key, () => this.turn(key));
    }
    list.push(item);
  }

  /** Items waiting for a key (tests, metrics). */
  waiting(key: string): number {
    return this.queued.get(key)?.length ?? 0;
  }

  private async turn(key: string) {
    const all = this.queued.get(key) ?? [];
    this.queued.delete(key);
    const batch = all.slice(0, this.opts.maxBatch);
    const rest = all.slice(this.opts.maxBatch);
    // Too many for one transaction: the rest go into the next one (queued behind this).
    if (rest.length) this.requeue(key, rest);
    const deferred = await this.opts.process(key, batch);
    if (deferred && deferred.length) this.requeue(key, deferred);
  }

  /** Puts items back at the head of the key's queue, for its next turn. */
  private requeue(key: string, items: T[]) {
    const next = this.queued.get(key);
    if (next) next.unshift(...items);
    else {
      this.queued.set(key, [...items]);
      this.opts.schedule(key, () => this.turn(key));
    }
  }
}
