/**
 * Wraps a PubSub iterator for a GraphQL subscription: drops payloads the subscriber should
 * not get (`filter`) and ends the subscription when a control payload says so (`endWhen`,
 * e.g. the subscriber left the room), and can `expand` one payload into several (a batch of
 * messages published at once). Written as a plain iterator object rather than an
 * async generator so that `return()` reaches the source at once, even while a `next()` is
 * pending: otherwise an unsubscribed client would keep its Redis subscription until the
 * next message.
 */
export function guardIterator<T>(
  source: AsyncIterator<T>,
  opts: { filter?: (v: T) => boolean; endWhen?: (v: T) => boolean; expand?: (v: T) => T[] | null },
): AsyncIterableIterator<T> {
  let finished = false;
  /** Payloads expanded from one source payload, not yet handed out. */
  const buffered: T[] = [];
  const done = (): IteratorResult<T> => ({ done: true, value: undefined });
  const close = async () => {
    if (source.return) await source.return();
  };
  const it: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      while (!finished) {
        const b = buffered.shift();
        if (b !== undefined) {
          if (!opts.filter || opts.filter(b)) return { done: false, value: b };
          continue;
        }
        const r = await source.next();
        if (r.done) {
          finished = true;
          break;
        }
        if (opts.endWhen?.(r.value)) {
          finished = true;
          await close();
          break;
        }
        const many = opts.expand?.(r.value);
        if (many) {
          buffered.push(...many);
          continue;
        }
        if (!opts.filter || opts.filter(r.value)) return r;
      }
      return done();
    },
    async return(): Promise<IteratorResult<T>> {
      finished = true;
      await close();
      return done();
    },
    async throw(e?: unknown): Promise<IteratorResult<T>> {
      finished = true;
      await close();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
