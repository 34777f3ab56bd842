import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useSubscription } from 'urql';
import { onReconnect } from '../../lib/connection';
import { contiguousSeq, lastSeq, mergeMessages, revealsGap, type ChatMessage } from './messages';

const FIELDS = 'id roomId seq senderId senderUsername content clientMessageId createdAt';
const PAGE = `query ChatPage($roomId: ID!, $cursor: String, $limit: Int) { chatMessages(roomId: $roomId, cursor: $cursor, limit: $limit) { items { ${FIELDS} } nextCursor } }`;
const AFTER = `query ChatAfter($roomId: ID!, $afterSeq: Int, $limit: Int) { chatMessages(roomId: $roomId, afterSeq: $afterSeq, limit: $limit) { items { ${FIELDS} } nextCursor } }`;
const ADDED = `subscription MessageAdded($roomId: ID!) { messageAdded(roomId: $roomId) { ${FIELDS} } }`;
const PAGE_SIZE = 50;
const CATCH_UP = 200;

type Page = { chatMessages: { items: ChatMessage[]; nextCursor: string | null } };

/**
 * A room's messages: the newest page first, older pages on demand, live `messageAdded`, and a
 * catch-up (`afterSeq`) whenever the subscription comes back after a drop or a live message
 * shows a gap. Everything goes through `mergeMessages`, so order and uniqueness hold.
 */
export function useRoomMessages(roomId: string) {
  const client = useClient();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [older, setOlder] = useState<string | null>(null);
  const [status, setStatus] = useState<'loading' | 'ready' | 'error'>('loading');
  const [error, setError] = useState<unknown>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const listRef = useRef<ChatMessage[]>([]);
  const catching = useRef<Promise<void> | null>(null);

  const apply = useCallback((incoming: ChatMessage[]) => {
    const next = mergeMessages(listRef.current, incoming.filter((m) => m.roomId === roomId || !m.roomId));
    listRef.current = next;
    setMessages(next);
  }, [roomId]);

  const load = useCallback(async () => {
    setStatus('loading');
    setError(null);
    const r = await client.query<Page>(PAGE, { roomId, limit: PAGE_SIZE }, { requestPolicy: 'network-only' }).toPromise();
    if (r.error || !r.data) {
      setError(r.error);
      setStatus('error');
      return;
    }
    apply(r.data.chatMessages.items);
    setOlder(r.data.chatMessages.nextCursor);
    setStatus('ready');
  }, [client, roomId, apply]);

  /** Fetches everything after the last seq held without a hole, page by page (oldest first), until it joins up. */
  const catchUp = useCallback(() => {
    if (catching.current) return catching.current;
    catching.current = (async () => {
      try {
        for (let i = 0; i < 50; i++) {
          const after = contiguousSeq(listRef.current);
          const r = await client.query<Page>(AFTER, { roomId, afterSeq: after, limit: CATCH_UP }, { requestPolicy: 'network-only' }).toPromise();
          const items = r.data?.chatMessages.items ?? [];
          const before = listRef.current;
          apply(items);
          if (listRef.current === before) break; // nothing new: the server has no more
          if (r.error || (items.length < CATCH_UP && contiguousSeq(listRef.current) === lastSeq(listRef.current))) break;
        }
      } finally {
        catching.current = null;
      }
    })();
    return catching.current;
  }, [client, roomId, apply]);

  useEffect(() => {
    listRef.current = [];
    setMessages([]);
    setOlder(null);
    void load();
  }, [load]);

  useEffect(() => onReconnect((ch) => ch === 'graphql' && void catchUp()), [catchUp]);

  useSubscription<{ messageAdded: ChatMessage }>({ query: ADDED, variables: { roomId } }, (_p, ev) => {
    const m = ev.messageAdded;
    const gap = revealsGap(listRef.current, m);
    apply([m]);
    if (gap) void catchUp();
    return ev;
  });

  const loadOlder = useCallback(async () => {
    if (!older) return;
    setLoadingOlder(true);
    try {
      const r = await client.query<Page>(PAGE, { roomId, cursor: older, limit: PAGE_SIZE }, { requestPolicy: 'network-only' }).toPromise();
      if (r.data) {
        apply(r.data.chatMessages.items);
        setOlder(r.data.chatMessages.nextCursor);
      }
    } finally {
      setLoadingOlder(false);
    }
  }, [client, roomId, older, apply]);

  return { messages, status, error, reload: load, hasOlder: !!older, loadOlder, loadingOlder, add: apply };
}
