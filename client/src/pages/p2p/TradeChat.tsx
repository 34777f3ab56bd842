import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, errorText } from '../../lib/api';
import { onReconnect } from '../../lib/connection';
import { formatTime } from '../../lib/format';
import { useSession } from '../../lib/session';
import { Button, Empty, ErrorState, Loading } from '../../lib/ui';
import { useLive } from '../live';
import { MESSAGE_ADDED } from './gql';

export interface ChatMessage {
  id: string;
  roomId: string;
  senderId: string | null;
  senderUsername: string | null;
  content: string;
  seq: number;
  createdAt: string;
  clientMessageId?: string | null;
}

/** Messages by sequence, without duplicates (history, live events and catch-up may overlap). */
export function mergeMessages(a: ChatMessage[], b: ChatMessage[]): ChatMessage[] {
  const bySeq = new Map<number, ChatMessage>();
  for (const m of [...a, ...b]) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

/** The trade's private chat (only the two parties and admins are members). */
export function TradeChat({ roomId, counterpart }: { roomId: string; counterpart: string }) {
  const { user } = useSession();
  const [messages, setMessages] = useState<ChatMessage[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [sendError, setSendError] = useState<string | null>(null);
  const lastSeq = useRef(0);
  const listRef = useRef<HTMLOListElement>(null);

  const add = useCallback((more: ChatMessage[]) => {
    setMessages((prev) => {
      const next = mergeMessages(prev ?? [], more);
      lastSeq.current = next.length ? next[next.length - 1].seq : 0;
      return next;
    });
  }, []);

  const load = useCallback(async () => {
    setError(null);
    try {
      const page = await api<{ items: ChatMessage[] }>(`/chat/rooms/${roomId}/messages`, { query: { limit: 50 } });
      add(page.items);
    } catch (e) {
      setError(e);
    }
  }, [roomId, add]);

  useEffect(() => {
    void load();
  }, [load]);

  // After a reconnect, fetch what was missed (oldest first from the last sequence seen).
  useEffect(
    () =>
      onReconnect(() => {
        void api<{ items: ChatMessage[] }>(`/chat/rooms/${roomId}/messages`, { query: { afterSeq: lastSeq.current, limit: 200 } })
          .then((p) => add(p.items))
          .catch(() => undefined);
      }),
    [roomId, add],
  );

  useLive<{ messageAdded: ChatMessage }>(MESSAGE_ADDED, { roomId }, (d) => add([d.messageAdded]));

  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages?.length]);

  async function send(e: FormEvent) {
    e.preventDefault();
    const content = text.trim();
    if (!content) return;
    setSending(true);
    setSendError(null);
    try {
      const m = await api<ChatMessage>(`/chat/rooms/${roomId}/messages`, { body: { content, clientMessageId: crypto.randomUUID() } });
      add([m]);
      setText('');
    } catch (err) {
      setSendError(errorText(err));
    } finally {
      setSending(false);
    }
  }

  return (
    <section className="card stack" aria-labelledby="trade-chat-title">
      <h2 id="trade-chat-title">Trade chat</h2>
      {error ? (
        <ErrorState error={error} retry={() => void load()} />
      ) : !messages ? (
        <Loading label="Loading chat…" />
      ) : messages.length === 0 ? (
        <Empty>No messages yet. Agree on the payment details here.</Empty>
      ) : (
        <ol className="list trade-chat" ref={listRef} aria-label="Trade messages" aria-live="polite">
          {messages.map((m) => (
            <li key={m.seq}>
              <strong>{m.senderId === user?.id ? 'You' : m.senderUsername ?? (m.senderId ? counterpart : 'System')}</strong>{' '}
              <span className="muted">{formatTime(m.createdAt)}</span>
              <div>{m.content}</div>
            </li>
          ))}
        </ol>
      )}
      <form className="row" onSubmit={send}>
        <div className="field">
          <label htmlFor="trade-message">Message</label>
          <input id="trade-message" value={text} onChange={(e) => setText(e.target.value)} maxLength={4000} autoComplete="off" />
        </div>
        <Button type="submit" busy={sending}>
          Send
        </Button>
      </form>
      {sendError && (
        <p role="alert" className="error">
          {sendError}
        </p>
      )}
      <p className="muted">Messages here are sealed into the record if a dispute is opened.</p>
    </section>
  );
}
