import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { errorText, newIdempotencyKey } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { useUser } from '../../lib/session';
import { getSocket } from '../../lib/socket';
import { Button, Empty, ErrorState, Loading, toast } from '../../lib/ui';
import { useRoomMessages } from './useRoomMessages';
import type { ChatMessage } from './messages';

const USERS = `query RoomUsers($roomId: ID!) { chatRoomUsers(roomId: $roomId) { userId username online status typing lastSeenAt } }`;
const TYPING = `subscription Typing($roomId: ID!) { typingChanged(roomId: $roomId) { roomId userId typing } }`;
const PRESENCE = `subscription Presence { presenceChanged { userId status lastSeenAt } }`;
const SEND = `mutation Send($roomId: ID!, $input: SendChatMessageInput!) { sendChatMessage(roomId: $roomId, input: $input) { id roomId seq senderId senderUsername content clientMessageId createdAt } }`;
const READ = `mutation Read($roomId: ID!, $seq: Int) { markChatRoomRead(roomId: $roomId, seq: $seq) { roomId unreadCount lastReadSeq } }`;

type Member = { userId: string; username: string; online: boolean; status: string; typing: boolean };

export function Room({ roomId, name, onRead }: { roomId: string; name: string; onRead: (roomId: string, seq: number) => void }) {
  const me = useUser();
  const { messages, status, error, reload, hasOlder, loadOlder, loadingOlder, add } = useRoomMessages(roomId);
  const [{ data: usersData }] = useQuery<{ chatRoomUsers: Member[] }>({ query: USERS, variables: { roomId } });
  const [members, setMembers] = useState<Member[]>([]);
  const [typing, setTyping] = useState<Record<string, boolean>>({});
  const [, send] = useMutation(SEND);
  const [, markRead] = useMutation(READ);
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const typingSent = useRef(0);
  const stopTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const composerId = useId();

  useEffect(() => {
    if (usersData) setMembers(usersData.chatRoomUsers);
  }, [usersData]);
  useEffect(() => setTyping({}), [roomId]);

  useSubscription<{ typingChanged: { userId: string; typing: boolean } }>({ query: TYPING, variables: { roomId } }, (_p, ev) => {
    const t = ev.typingChanged;
    setTyping((s) => ({ ...s, [t.userId]: t.typing }));
    return ev;
  });
  useSubscription<{ presenceChanged: { userId: string; status: string } }>({ query: PRESENCE }, (_p, ev) => {
    const p = ev.presenceChanged;
    setMembers((ms) => ms.map((m) => (m.userId === p.userId ? { ...m, status: p.status, online: p.status !== 'offline' } : m)));
    return ev;
  });

  // A message from someone who was typing ends their typing indicator.
  const last = messages.at(-1);
  useEffect(() => {
    if (last?.senderId) setTyping((s) => (s[last.senderId!] ? { ...s, [last.senderId!]: false } : s));
  }, [last]);

  // Read up to the newest message while the room is open.
  useEffect(() => {
    if (!last) return;
    void markRead({ roomId, seq: last.seq });
    onRead(roomId, last.seq);
  }, [last, roomId, markRead, onRead]);

  // Stay at the bottom while the reader is there.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [messages]);

  const emitTyping = (on: boolean) => {
    const s = getSocket();
    if (on) {
      if (Date.now() - typingSent.current > 3000) {
        typingSent.current = Date.now();
        s.emit('start_typing', { roomId });
      }
      clearTimeout(stopTimer.current);
      stopTimer.current = setTimeout(() => emitTyping(false), 2500);
    } else {
      clearTimeout(stopTimer.current);
      if (typingSent.current) s.emit('stop_typing', { roomId });
      typingSent.current = 0;
    }
  };
  useEffect(() => () => clearTimeout(stopTimer.current), []);

  const submit = async () => {
    const content = draft.trim();
    if (!content || sending) return;
    setSending(true);
    emitTyping(false);
    const r = await send({ roomId, input: { content, clientMessageId: newIdempotencyKey() } });
    setSending(false);
    if (r.error) return toast(errorText(r.error), 'error');
    setDraft('');
    stick.current = true;
    if (r.data) add([(r.data as { sendChatMessage: ChatMessage }).sendChatMessage]);
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  };

  const typers = members.filter((m) => m.userId !== me.id && typing[m.userId]).map((m) => m.username);

  return (
    <div className="card chat-room">
      <header className="row" style={{ justifyContent: 'space-between' }}>
        <h2>{name}</h2>
        <ul className="members list-inline" aria-label="Members">
          {members.map((m) => (
            <li key={m.userId} className="members-item">
              <span className={`presence ${m.status}`} aria-hidden="true" /> {m.username}
              <span className="visually-hidden"> ({m.status})</span>
            </li>
          ))}
        </ul>
      </header>
      <div
        className="messages"
        ref={scroller}
        role="log"
        aria-label={`Messages in ${name}`}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {hasOlder && (
          <Button className="older" onClick={() => void loadOlder()} busy={loadingOlder}>
            Load older messages
          </Button>
        )}
        {status === 'loading' && messages.length === 0 && <Loading label="Loading messages…" />}
        {status === 'error' && <ErrorState error={error} retry={() => void reload()} />}
        {status === 'ready' && messages.length === 0 && <Empty>No messages yet. Say hello!</Empty>}
        {messages.map((m) => (
          <div key={m.seq} className={`msg${m.senderId === me.id ? ' mine' : ''}`} data-seq={m.seq}>
            <div>
              <span className="who">{m.senderId === me.id ? 'You' : (m.senderUsername ?? 'Someone')}</span>
              <time className="when" dateTime={m.createdAt}>
                {formatTime(m.createdAt)}
              </time>
            </div>
            <div className="text">{m.content}</div>
          </div>
        ))}
      </div>
      <p className="typing" aria-live="polite">
        {typers.length ? `${typers.join(', ')} ${typers.length > 1 ? 'are' : 'is'} typing…` : ''}
      </p>
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="field">
          <label htmlFor={composerId}>Message</label>
          <textarea
            id={composerId}
            rows={2}
            value={draft}
            maxLength={4000}
            placeholder="Write a message (Enter sends, Shift+Enter for a new line)"
            onChange={(e) => {
              setDraft(e.target.value);
              emitTyping(e.target.value.length > 0);
            }}
            onKeyDown={onKey}
          />
        </div>
        <Button type="submit" variant="primary" busy={sending} disabled={!draft.trim()}>
          Send
        </Button>
      </form>
    </div>
  );
}
