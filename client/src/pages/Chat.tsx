import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { NavLink, useNavigate, useParams } from 'react-router-dom';
import { useMutation, useQuery, useSubscription } from 'urql';
import { errorText } from '../lib/api';
import { onReconnect } from '../lib/connection';
import { useUser } from '../lib/session';
import { Button, Empty, ErrorState, Field, Loading, Page, toast } from '../lib/ui';
import { Room } from './chat/Room';
import { useTrailing } from './live';

type RoomRow = { id: string; name: string; isPrivate: boolean; unreadCount: number | null; lastSeq: number; lastReadSeq: number | null; memberCount: number };

const ROOMS = `query Rooms { chatRooms(limit: 100) { items { id name isPrivate unreadCount lastSeq lastReadSeq memberCount } nextCursor } }`;
const PUBLIC = `query PublicRooms { publicChatRooms(limit: 50) { items { id name memberCount role } } }`;
const CREATE = `mutation CreateRoom($input: CreateChatRoomInput!) { createChatRoom(input: $input) { id name } }`;
const PUBLIC_CHANGED = `subscription PublicRoomChanged { publicRoomChanged { id memberCount } }`;
const JOIN = `mutation JoinRoom($roomId: ID!) { joinChatRoom(roomId: $roomId) { id name } }`;
const ADDED = `subscription RoomActivity($roomId: ID!) { messageAdded(roomId: $roomId) { roomId seq senderId } }`;

/** Hears a room's new messages while another room is open, to keep its unread count live. */
function RoomWatcher({ roomId, onMessage }: { roomId: string; onMessage: (roomId: string, seq: number, senderId: string | null) => void }) {
  useSubscription<{ messageAdded: { roomId: string; seq: number; senderId: string | null } }>({ query: ADDED, variables: { roomId } }, (_p, ev) => {
    onMessage(roomId, ev.messageAdded.seq, ev.messageAdded.senderId);
    return ev;
  });
  return null;
}

function CreateRoom({ onCreated }: { onCreated: (id: string) => void }) {
  const [name, setName] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [{ fetching }, create] = useMutation(CREATE);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await create({ input: { name: name.trim(), isPrivate } });
    if (r.error) return toast(errorText(r.error), 'error');
    setName('');
    onCreated((r.data as { createChatRoom: { id: string } }).createChatRoom.id);
  };
  return (
    <form onSubmit={submit} className="stack">
      <h3>New room</h3>
      <Field label="Room name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
      <label className="check">
        <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} /> Private (invite only)
      </label>
      <Button type="submit" busy={fetching} disabled={!name.trim()}>
        Create room
      </Button>
    </form>
  );
}

function PublicRooms({ mine, onJoined }: { mine: Set<string>; onJoined: (id: string) => void }) {
  const [{ data, fetching, error }, refetch] = useQuery<{ publicChatRooms: { items: { id: string; name: string; memberCount: number }[] } }>({ query: PUBLIC });
  // Live: a public room created, or its member count changed, reloads the list (at most once a second),
  // and after the live channel reconnects (events missed meanwhile).
  const reloadSoon = useTrailing(() => refetch({ requestPolicy: 'network-only' }), 1000);
  useSubscription({ query: PUBLIC_CHANGED }, () => {
    reloadSoon();
    return null;
  });
  useEffect(() => onReconnect(reloadSoon), [reloadSoon]);
  const [, join] = useMutation(JOIN);
  const rooms = data?.publicChatRooms.items.filter((r) => !mine.has(r.id)) ?? [];
  return (
    <section className="stack">
      <div className="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
        <h3>Public rooms</h3>
        <Button variant="ghost" onClick={() => refetch({ requestPolicy: 'network-only' })} busy={fetching}>
          Refresh rooms
        </Button>
      </div>
      {fetching && !data && <Loading />}
      {error && <ErrorState error={error} />}
      {data && rooms.length === 0 && <Empty>No other public rooms.</Empty>}
      <ul className="list">
        {rooms.map((r) => (
          <li key={r.id} className="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
            <span>
              {r.name} <span className="muted">· {r.memberCount} members</span>
            </span>
            <Button
              aria-label={`Join ${r.name}`}
              onClick={async () => {
                const res = await join({ roomId: r.id });
                if (res.error) toast(errorText(res.error), 'error');
                else onJoined(r.id);
              }}
            >
              Join
            </Button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export default function Chat() {
  const me = useUser();
  const { roomId } = useParams();
  const navigate = useNavigate();
  const [{ data, fetching, error }, refetch] = useQuery<{ chatRooms: { items: RoomRow[] } }>({ query: ROOMS, requestPolicy: 'cache-and-network' });
  const [unread, setUnread] = useState<Record<string, number>>({});
  const rooms = data?.chatRooms.items ?? [];

  useEffect(() => {
    if (data) setUnread(Object.fromEntries(data.chatRooms.items.map((r) => [r.id, r.unreadCount ?? 0])));
  }, [data]);
  useEffect(() => onReconnect((ch) => ch === 'graphql' && refetch({ requestPolicy: 'network-only' })), [refetch]);

  const onMessage = useCallback(
    (rid: string, _seq: number, senderId: string | null) => {
      if (rid !== roomId && senderId !== me.id) setUnread((u) => ({ ...u, [rid]: (u[rid] ?? 0) + 1 }));
    },
    [roomId, me.id],
  );
  const onRead = useCallback((rid: string) => setUnread((u) => (u[rid] ? { ...u, [rid]: 0 } : u)), []);
  const open = (id: string) => {
    refetch({ requestPolicy: 'network-only' });
    navigate(`/chat/${id}`);
  };

  const current = rooms.find((r) => r.id === roomId);
  return (
    <Page title="Chat">
      <div className={`grid grid-side${roomId ? " in-room" : ""}`}>
        <aside className="card stack" aria-label="Rooms">
          <h2>Rooms</h2>
          {fetching && !data && <Loading />}
          {error && <ErrorState error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />}
          {data && rooms.length === 0 && <Empty>You are in no room yet: create one or join a public room.</Empty>}
          <ul className="list rooms">
            {rooms.map((r) => {
              const n = unread[r.id] ?? 0;
              return (
                <li key={r.id}>
                  <NavLink to={`/chat/${r.id}`} aria-label={`${r.name}${n ? `, ${n} unread` : ''}`}>
                    <span>
                      <span aria-hidden="true">{r.isPrivate ? '• ' : '# '}</span>
                      {r.isPrivate && <span className="visually-hidden">Private room </span>}
                      {r.name}
                    </span>
                    {n > 0 && <span className="count">{n}</span>}
                  </NavLink>
                </li>
              );
            })}
          </ul>
          {rooms.slice(0, 30).map((r) => (r.id === roomId ? null : <RoomWatcher key={r.id} roomId={r.id} onMessage={onMessage} />))}
          <CreateRoom onCreated={open} />
          <PublicRooms mine={new Set(rooms.map((r) => r.id))} onJoined={open} />
        </aside>
        <div>
          {roomId && current ? (
            <Room key={roomId} roomId={roomId} name={current.name} onRead={onRead} />
          ) : roomId && fetching ? (
            <Loading />
          ) : roomId && data ? (
            <ErrorState error={new Error('You are not a member of this room.')} />
          ) : (
            <div className="card">
              <Empty>Pick a room on the left to start chatting.</Empty>
            </div>
          )}
        </div>
      </div>
    </Page>
  );
}
