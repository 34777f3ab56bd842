import { useCallback, useEffect, useRef } from 'react';
import { useSubscription } from 'urql';

/**
 * A GraphQL subscription whose every event reaches `onEvent` (not only the latest one a render
 * happens to see: a feed of tips or messages must not drop an event that arrived in the same tick).
 * Shared by the P2P, Videos, Creator and Battles pages.
 */
export function useLive<T>(query: string, variables: Record<string, unknown> | undefined, onEvent: (data: T) => void, pause = false) {
  const ref = useRef(onEvent);
  ref.current = onEvent;
  const [res] = useSubscription<T, T>({ query, variables, pause }, (_prev, data) => {
    ref.current(data);
    return data;
  });
  return res;
}

/**
 * `fn` at most once per `ms`, at the end of the window: a burst of live events costs one reload.
 * The latest `fn` runs (it may read the latest state).
 */
export function useTrailing(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => clearTimeout(timer.current ?? undefined), []);
  return useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      ref.current();
    }, ms);
  }, [ms]);
}

/** Role check on the session user. */
export const hasRole = (user: { roles: string[] } | null | undefined, ...roles: string[]) => !!user && roles.some((r) => user.roles.includes(r));

/** A short, stable name for a user id when no username is known. */
export const shortId = (id: string) => id.slice(0, 8);
