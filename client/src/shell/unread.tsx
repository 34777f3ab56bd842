import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useSubscription } from 'urql';
import { onReconnect } from '../lib/connection';
import { toast } from '../lib/ui';

const UNREAD = `query Unread { notifications(limit: 1) { unreadCount } }`;
const ADDED = `subscription NotificationAdded { notificationAdded { id type title body read createdAt data } }`;

export interface LiveNotification {
  id: string;
  type: string;
  title: string;
  body: string;
  read: boolean;
  createdAt: string;
}

interface UnreadValue {
  count: number;
  /** Set the count from a fresher server answer (after read, read-all or a list load). */
  setCount(n: number): void;
  /** The newest notifications heard live, newest first (the Notifications page merges them in). */
  live: LiveNotification[];
}

const Ctx = createContext<UnreadValue>({ count: 0, setCount: () => undefined, live: [] });

/** The live unread-notification count for the header button, fed by `notificationAdded`. */
export function UnreadProvider({ children }: { children: ReactNode }) {
  const [{ data }, refetch] = useQuery<{ notifications: { unreadCount: number } }>({ query: UNREAD, requestPolicy: 'network-only' });
  const [count, setCountState] = useState(0);
  const [live, setLive] = useState<LiveNotification[]>([]);
  useEffect(() => {
    if (data) setCountState(data.notifications.unreadCount);
  }, [data]);
  useEffect(() => onReconnect((ch) => ch === 'graphql' && refetch({ requestPolicy: 'network-only' })), [refetch]);
  useSubscription<{ notificationAdded: LiveNotification }>({ query: ADDED }, (_prev, ev) => {
    const n = ev.notificationAdded;
    setLive((l) => (l.some((x) => x.id === n.id) ? l : [n, ...l].slice(0, 50)));
    if (!n.read) {
      setCountState((c) => c + 1);
      toast(`${n.title}`);
    }
    return ev;
  });
  const setCount = useCallback((n: number) => setCountState(Math.max(0, n)), []);
  const value = useMemo(() => ({ count, setCount, live }), [count, setCount, live]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export const useUnread = () => useContext(Ctx);
