import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useSubscription } from 'urql';
import { onReconnect } from '../../lib/connection';
import { applyUpdate, reconcile, type Book } from './book';

const SNAPSHOT = `query Book($pairId: ID!) { orderBook(pairId: $pairId, depth: 50) { pairId sequence bids asks } }`;
const LIVE = `subscription BookLive($pairId: ID!) { orderBookUpdated(pairId: $pairId) { pairId sequence bids asks } }`;

/**
 * The live book of a pair: subscribe, take a snapshot, apply deltas in sequence; on a gap or a
 * reconnect, buffer the deltas, take a new snapshot and replay the buffer over it.
 */
export function useOrderBook(pairId: string) {
  const client = useClient();
  const [book, setBook] = useState<Book | null>(null);
  const [error, setError] = useState<unknown>(null);
  const bookRef = useRef<Book | null>(null);
  const buffer = useRef<Book[] | null>([]); // non-null while a snapshot is being fetched
  const frame = useRef<number | null>(null);

  // Deltas are applied as they come, but rendered at most once per animation frame: a burst of
  // updates costs one render, which keeps a fast book from blocking the main thread.
  const render = useCallback(() => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setBook(bookRef.current);
    });
  }, []);
  useEffect(() => () => void (frame.current !== null && cancelAnimationFrame(frame.current)), []);

  const resync = useCallback(async () => {
    buffer.current = [];
    const r = await client.query<{ orderBook: Book }>(SNAPSHOT, { pairId }, { requestPolicy: 'network-only' }).toPromise();
    if (!r.data) {
      setError(r.error);
      buffer.current = null;
      return;
    }
    setError(null);
    const res = reconcile(r.data.orderBook, buffer.current ?? []);
    buffer.current = null;
    bookRef.current = res.book;
    setBook(res.book);
    if (res.status === 'gap') void resync();
  }, [client, pairId]);

  useEffect(() => {
    bookRef.current = null;
    setBook(null);
    void resync();
  }, [resync]);
  useEffect(() => onReconnect((ch) => ch === 'graphql' && void resync()), [resync]);

  useSubscription<{ orderBookUpdated: Book }>({ query: LIVE, variables: { pairId } }, (_p, ev) => {
    const u = ev.orderBookUpdated;
    if (buffer.current) buffer.current.push(u);
    else if (bookRef.current) {
      const r = applyUpdate(bookRef.current, u);
      if (r.status === 'applied') {
        bookRef.current = r.book;
        render();
      } else if (r.status === 'gap') void resync();
    }
    return ev;
  });

  return { book, error, retry: resync };
}
