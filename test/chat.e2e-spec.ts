import type { Socket } from 'socket.io-client';
import { startTestApp, TestApp } from './harness/app';
import {
  closeClients,
  collect,
  connectSocket,
  emitAck,
  gql,
  gqlWs,
  http,
  nextEvent,
  registerUser,
  subscribe,
  TestUser,
  waitForGqlSubscriber,
} from './harness/clients';

/**
 * Chat end to end: rooms, membership, messages with per-room sequences, history paging,
 * catch-up by sequence, idempotent retries, rate limits, typing and unread counts, over REST,
 * Socket.IO and GraphQL, on two instances sharing one Postgres and one Redis.
 */
describe('chat', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ shareWith: a });
  });
  afterAll(async () => {
    await closeClients();
    await b.close();
    await a.close();
  });

  const bearer = (u: TestUser) => `Bearer ${u.token}`;
  let roomSeq = 0;

  async function createRoom(t: TestApp, owner: TestUser, body: Record<string, unknown> = {}) {
    roomSeq += 1;
    const res = await http(t)
      .post('/api/chat/rooms')
      .set('authorization', bearer(owner))
      .send({ name: `room ${roomSeq}`, ...body })
      .expect(201);
    return res.body as { id: string; name: string; isPrivate: boolean; lastSeq: number };
  }

  async function joined(t: TestApp, u: TestUser, roomId: string, lastSeq?: number): Promise<{ socket: Socket; ack: any }> {
    const socket = await connectSocket(t, u.token);
    const ack = await emitAck(socket, 'join_room', lastSeq === undefined ? { roomId } : { roomId, lastSeq });
    expect(ack.ok).toBe(true);
    return { socket, ack };
  }

  const send = (socket: Socket, roomId: string, content: string, clientMessageId?: string) =>
    emitAck(socket, 'send_message', clientMessageId ? { roomId, content, clientMessageId } : { roomId, content });

  describe('rooms', () => {
    it('creates public and private rooms, lists mine, and validates input with 400s naming fields', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const pub = await createRoom(a, alice, { name: '  general  ' });
      expect(pub).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'general',
        isPrivate: false,
        kind: 'user', // 'system' for platform-owned rooms (P2P trade chats)
        createdBy: alice.id,
        createdAt: expect.any(String),
        lastSeq: 0,
        lastMessageAt: null,
        memberCount: 1,
        role: 'owner',
        lastReadSeq: 0,
        unreadCount: 0,
      });
      const priv = await createRoom(a, alice, { name: 'secret', isPrivate: true, memberIds: [bob.id, alice.id] });
      expect(priv).toMatchObject({ isPrivate: true, memberCount: 2 });

      const mine = await http(b).get('/api/chat/rooms').set('authorization', bearer(bob)).expect(200);
      expect(mine.body).toEqual({ items: [expect.objectContaining({ id: priv.id, role: 'member', unreadCount: 0 })], nextCursor: null });

      const bad = await http(a)
        .post('/api/chat/rooms')
        .set('authorization', bearer(alice))
        .send({ isPrivate: 'yes', memberIds: ['nope'] })
        .expect(400);
      const msg = JSON.stringify(bad.body.message);
      expect(msg).toMatch(/name/);
      expect(msg).toMatch(/isPrivate/);
      expect(msg).toMatch(/memberIds/);
      const unknown = await http(a)
        .post('/api/chat/rooms')
        .set('authorization', bearer(alice))
        .send({ name: 'x', memberIds: ['00000000-0000-4000-8000-000000000000'] })
        .expect(400);
      expect(unknown.body.message.join(' ')).toMatch(/memberIds contains unknown users/);
      await http(a).post('/api/chat/rooms').set('authorization', bearer(alice)).send({ name: '   ' }).expect(400);
      await http(a).post('/api/chat/rooms').send({ name: 'anon' }).expect(401);

      await http(a).get('/api/chat/rooms/00000000-0000-4000-8000-000000000000/messages').set('authorization', bearer(alice)).expect(404);
      await http(a).get('/api/chat/rooms/not-a-uuid/messages').set('authorization', bearer(alice)).expect(400);
      await http(a).get('/api/chat/rooms?limit=500').set('authorization', bearer(alice)).expect(400);
      await http(a).get('/api/chat/rooms?cursor=garbage!').set('authorization', bearer(alice)).expect(400);
    });

    it('pages my rooms with an opaque cursor, without overlap', async () => {
      const u = await registerUser(a);
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await createRoom(a, u)).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: any = await http(a)
          .get(`/api/chat/rooms?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set('authorization', bearer(u))
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((r: { id: string }) => r.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    });

    it('joins public rooms over REST and Socket.IO with user_joined; private rooms refuse strangers on every transport', async () => {
      const owner = await registerUser(a);
      const joiner = await registerUser(a);
      const stranger = await registerUser(a);
      const pub = await createRoom(a, owner);
      const priv = await createRoom(a, owner, { isPrivate: true });
      const { socket: ownerSocket } = await joined(a, owner, pub.id);

      const heard = nextEvent(ownerSocket, 'user_joined', (p: any) => p.userId === joiner.id);
      const res = await http(b).post(`/api/chat/rooms/${pub.id}/join`).set('authorization', bearer(joiner)).expect(200);
      expect(res.body).toMatchObject({ id: pub.id, role: 'member', memberCount: 2, unreadCount: 0 });
      expect(await heard).toEqual({ roomId: pub.id, userId: joiner.id });
      // Joining again is harmless.
      await http(a).post(`/api/chat/rooms/${pub.id}/join`).set('authorization', bearer(joiner)).expect(200);

      // A stranger and the private room: REST, Socket.IO and GraphQL all say 403.
      const s = await connectSocket(b, stranger.token);
      const refused = await emitAck(s, 'join_room', { roomId: priv.id });
      expect(refused).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/private/) } });
      await http(a).post(`/api/chat/rooms/${priv.id}/join`).set('authorization', bearer(stranger)).expect(403);
      await http(a).get(`/api/chat/rooms/${priv.id}`).set('authorization', bearer(stranger)).expect(403);
      await http(a).get(`/api/chat/rooms/${priv.id}/messages`).set('authorization', bearer(stranger)).expect(403);
      await http(a).post(`/api/chat/rooms/${priv.id}/messages`).set('authorization', bearer(stranger)).send({ content: 'hi' }).expect(403);
      await http(a).get(`/api/chat/rooms/${priv.id}/users`).set('authorization', bearer(stranger)).expect(403);
      await http(a)
        .put(`/api/chat/rooms/${priv.id}/users/${stranger.id}/typing`)
        .set('authorization', bearer(stranger))
        .send({ typing: true })
        .expect(403);
      expect((await send(s, priv.id, 'let me in')).error.code).toBe('FORBIDDEN');
      expect((await emitAck(s, 'start_typing', { roomId: priv.id })).error.code).toBe('FORBIDDEN');
      const q = await gql(a, 'query($r: ID!) { chatMessages(roomId: $r) { items { id } } }', { r: priv.id }, stranger.token).expect(200);
      expect(q.body.errors[0].extensions.code).toBe('FORBIDDEN');
      // graphql-ws reports a refused subscription as a result with errors, then completes it.
      const sub = subscribe(gqlWs(b, stranger.token), 'subscription($r: ID!) { messageAdded(roomId: $r) { id } }', { r: priv.id });
      const refusedSub = (await sub.next()) as { data: unknown; errors: { message: string; extensions: { code: string } }[] };
      expect(refusedSub.data ?? null).toBeNull();
      expect(refusedSub.errors[0].extensions.code).toBe('FORBIDDEN');
      const typingSub = subscribe(gqlWs(b, stranger.token), 'subscription($r: ID!) { typingChanged(roomId: $r) { userId } }', { r: priv.id });
      expect(((await typingSub.next()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
      // A member of a public room must join before writing.
      expect((await send(s, pub.id, 'drive-by')).error).toEqual({ code: 'FORBIDDEN', message: expect.stringMatching(/join it first/) });

      // The owner adds the stranger; now they are in.
      const added = await http(a).post(`/api/chat/rooms/${priv.id}/members`).set('authorization', bearer(owner)).send({ userIds: [stranger.id] }).expect(200);
      expect(added.body).toEqual({ roomId: priv.id, added: [stranger.id] });
      await http(a).post(`/api/chat/rooms/${priv.id}/members`).set('authorization', bearer(stranger)).send({ userIds: [joiner.id] }).expect(403);
      const ack = await emitAck(s, 'join_room', { roomId: priv.id });
      expect(ack.ok).toBe(true);
      expect(ack.data.members.map((m: { userId: string }) => m.userId).sort()).toEqual([owner.id, stranger.id].sort());
    });

    it('a member coming back on several sockets (tabs, reconnects) is told to the room once, across instances', async () => {
      const owner = await registerUser(a);
      const member = await registerUser(a);
      const room = await createRoom(a, owner, { memberIds: [member.id] });
      const { socket: ownerSocket } = await joined(a, owner, room.id);
      const heard = collect(ownerSocket, 'user_joined');
      // Three tabs of the member enter the room, on both instances, at once.
      await Promise.all([joined(a, member, room.id), joined(b, member, room.id), joined(b, member, room.id)]);
      await new Promise((r) => setTimeout(r, 500)); // room for any extra frame to arrive
      heard.stop();
      expect(heard.items).toEqual([{ roomId: room.id, userId: member.id }]);
    });

    it('leave_room ends membership: user_left to the room, no more messages, reads refused', async () => {
      const owner = await registerUser(a);
      const leaver = await registerUser(a);
      const room = await createRoom(a, owner, { isPrivate: true, memberIds: [leaver.id] });
      const { socket: os } = await joined(a, owner, room.id);
      const { socket: ls } = await joined(b, leaver, room.id);
      const ls2 = await connectSocket(a, leaver.token);
      expect((await emitAck(ls2, 'join_room', { roomId: room.id })).ok).toBe(true);

      const left = nextEvent(os, 'user_left');
      expect(await emitAck(ls, 'leave_room', { roomId: room.id })).toEqual({ ok: true, data: { roomId: room.id, left: true } });
      expect(await left).toEqual({ roomId: room.id, userId: leaver.id });

      // Every socket of the leaver, on both instances, stopped listening.
      const stray1 = collect(ls, 'message_received');
      const stray2 = collect(ls2, 'message_received');
      const seen = nextEvent(os, 'message_received');
      await send(os, room.id, 'after you left');
      await seen;
      await emitAck(ls2, 'whoami', {});
      await emitAck(ls, 'whoami', {});
      expect(stray1.items).toEqual([]);
      expect(stray2.items).toEqual([]);
      await http(a).get(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(leaver)).expect(403);
      expect((await emitAck(ls, 'leave_room', { roomId: room.id })).error.code).toBe('FORBIDDEN');
      expect((await emitAck(ls, 'join_room', { roomId: room.id })).error.code).toBe('FORBIDDEN');
    });
  });

  describe('messages', () => {
    it('send_message acks the stored message and every member socket on both instances receives it; others do not', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const outsider = await registerUser(a);
      const room = await createRoom(a, alice, { isPrivate: true, memberIds: [bob.id] });
      const { socket: as } = await joined(a, alice, room.id);
      const { socket: bs } = await joined(b, bob, room.id);
      const os = await connectSocket(a, outsider.token);
      const leak = collect(os, 'message_received');

      const onBob = nextEvent(bs, 'message_received');
      const onAlice = nextEvent(as, 'message_received');
      const ack = await send(as, room.id, 'hello bob', 'c-1');
      const message = {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        roomId: room.id,
        seq: 1,
        senderId: alice.id,
        senderUsername: alice.username,
        content: 'hello bob',
        clientMessageId: 'c-1',
        createdAt: expect.any(String),
      };
      expect(ack).toEqual({ ok: true, data: message });
      expect(await onBob).toEqual({ roomId: room.id, message: ack.data });
      expect(await onAlice).toEqual({ roomId: room.id, message: ack.data });
      await emitAck(os, 'whoami', {});
      expect(leak.items).toEqual([]);

      // REST on the other instance: 201, the next sequence, heard live on A.
      const live = nextEvent(as, 'message_received', (p: any) => p.message.seq === 2);
      const rest = await http(b).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(bob)).send({ content: 'hi alice' }).expect(201);
      expect(rest.body).toMatchObject({ roomId: room.id, seq: 2, senderId: bob.id, content: 'hi alice', clientMessageId: null });
      expect((await live).message).toEqual(rest.body);
    });

    it('a retried clientMessageId stores nothing new and returns the original, on every transport', async () => {
      const u = await registerUser(a);
      const room = await createRoom(a, u);
      const { socket } = await joined(a, u, room.id);
      const first = await send(socket, room.id, 'only once', 'retry-1');
      const again = await send(socket, room.id, 'only once', 'retry-1');
      expect(again).toEqual(first);
      const viaRest = await http(b)
        .post(`/api/chat/rooms/${room.id}/messages`)
        .set('authorization', bearer(u))
        .send({ content: 'only once', clientMessageId: 'retry-1' })
        .expect(201);
      expect(viaRest.body).toEqual(first.data);
      expect(viaRest.headers['idempotent-replayed']).toBe('true');
      // Concurrent retries race: still one message, and no sequence number is burnt.
      const racers = await Promise.all([1, 2, 3].map(() => send(socket, room.id, 'racing', 'retry-2')));
      expect(new Set(racers.map((r) => r.data.id)).size).toBe(1);
      // ...and across instances, where only the unique index can decide.
      const onB = await connectSocket(b, u.token);
      const crossRace = await Promise.all([socket, onB, socket, onB].map((s) => send(s, room.id, 'cross-racing', 'retry-3')));
      expect(crossRace.every((r) => r.ok)).toBe(true);
      expect(new Set(crossRace.map((r) => r.data.id)).size).toBe(1);
      expect(crossRace[0].data.seq).toBe(3);
      const next = await send(socket, room.id, 'after the race');
      expect(next.data.seq).toBe(4);
      const history = await http(a).get(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(u)).expect(200);
      expect(history.body.items.map((m: { seq: number }) => m.seq)).toEqual([4, 3, 2, 1]);
    });

    it('refuses bad content with 400 / BAD_REQUEST acks naming the field, never 500', async () => {
      const u = await registerUser(a);
      const room = await createRoom(a, u);
      const { socket } = await joined(a, u, room.id);
      const tooLong = await http(a).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(u)).send({ content: 'x'.repeat(4001) }).expect(400);
      expect(JSON.stringify(tooLong.body.message)).toMatch(/content/);
      await http(a).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(u)).send({ content: '   ' }).expect(400);
      await http(a).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(u)).send({ content: 'nul \u0000 byte' }).expect(400);
      await http(a).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(u)).send({ content: 'ok', clientMessageId: 'has spaces' }).expect(400);
      await http(a).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(u)).send({}).expect(400);
      const bad = await emitAck(socket, 'send_message', { roomId: room.id, content: 'y'.repeat(4001) });
      expect(bad.ok).toBe(false);
      expect(bad.error.code).toBe('BAD_REQUEST');
      expect(bad.error.message).toMatch(/content/);
      expect((await emitAck(socket, 'send_message', { roomId: 'nope', content: 'x' })).error.message).toMatch(/roomId/);
      expect((await emitAck(socket, 'send_message', 'not an object')).ok).toBe(false);
      expect((await send(socket, room.id, 'still fine')).data.seq).toBe(1);
    });

    it('history is newest first and cursor paging has no gap and no repeat while new messages arrive', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const room = await createRoom(a, alice, { memberIds: [bob.id] });
      const { socket: as } = await joined(a, alice, room.id);
      const { socket: bs } = await joined(b, bob, room.id);
      for (let i = 1; i <= 24; i++) await send(i % 2 ? as : bs, room.id, `m${i}`);

      const seen: number[] = [];
      let cursor: string | null = null;
      let page = 0;
      do {
        const res: any = await http(page % 2 ? a : b)
          .get(`/api/chat/rooms/${room.id}/messages?limit=5${cursor ? `&cursor=${cursor}` : ''}`)
          .set('authorization', bearer(alice))
          .expect(200);
        seen.push(...res.body.items.map((m: { seq: number }) => m.seq));
        cursor = res.body.nextCursor;
        // New messages keep arriving between pages.
        if (page < 3) await send(page % 2 ? as : bs, room.id, `late ${page}`);
        page += 1;
      } while (cursor);
      expect(seen).toEqual(Array.from({ length: 24 }, (_, i) => 24 - i));

      const latest = await http(a).get(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(bob)).expect(200);
      expect(latest.body.items).toHaveLength(27);
      expect(latest.body.items[0]).toMatchObject({ seq: 27, content: 'late 2' });
      expect(latest.body.nextCursor).toBeNull();

      // Forward from a sequence (what a client missed), oldest first.
      const after = await http(a).get(`/api/chat/rooms/${room.id}/messages?afterSeq=22&limit=3`).set('authorization', bearer(bob)).expect(200);
      expect(after.body.items.map((m: { seq: number }) => m.seq)).toEqual([23, 24, 25]);
      const rest = await http(a).get(`/api/chat/rooms/${room.id}/messages?cursor=${after.body.nextCursor}`).set('authorization', bearer(bob)).expect(200);
      expect(rest.body.items.map((m: { seq: number }) => m.seq)).toEqual([26, 27]);

      await http(a).get(`/api/chat/rooms/${room.id}/messages?limit=0`).set('authorization', bearer(bob)).expect(400);
      await http(a).get(`/api/chat/rooms/${room.id}/messages?limit=abc`).set('authorization', bearer(bob)).expect(400);
      const forged = Buffer.from(JSON.stringify([1, 'msg', 'b', 'DROP TABLE'])).toString('base64url');
      const bad = await http(a).get(`/api/chat/rooms/${room.id}/messages?cursor=${forged}`).set('authorization', bearer(bob)).expect(400);
      expect(JSON.stringify(bad.body.message)).toMatch(/cursor/);
    });

    it('a client that reconnects with lastSeq receives exactly what it missed, in order', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const room = await createRoom(a, alice, { isPrivate: true, memberIds: [bob.id] });
      const { socket: as } = await joined(a, alice, room.id);
      const { socket: bs } = await joined(b, bob, room.id);
      let lastSeen = 0;
      bs.on('message_received', (p: any) => (lastSeen = Math.max(lastSeen, p.message.seq)));
      const third = nextEvent(bs, 'message_received', (p: any) => p.message.seq === 3);
      for (const c of ['one', 'two', 'three']) await send(as, room.id, c);
      await third;
      expect(lastSeen).toBe(3);
      bs.close();

      for (const c of ['four', 'five', 'six', 'seven']) await send(as, room.id, c);
      // Bob comes back on the other instance.
      const { ack } = await joined(a, bob, room.id, lastSeen);
      expect(ack.data.messages.map((m: { seq: number; content: string }) => [m.seq, m.content])).toEqual([
        [4, 'four'],
        [5, 'five'],
        [6, 'six'],
        [7, 'seven'],
      ]);
      expect(ack.data).toMatchObject({ hasMore: false, lastSeq: 7, room: { id: room.id, lastSeq: 7 } });
      expect(ack.data.members).toEqual(
        expect.arrayContaining([
          { userId: alice.id, username: alice.username, online: true, status: 'online', typing: false, lastSeenAt: expect.any(String), role: 'owner', joinedAt: expect.any(String) },
        ]),
      );
      // Up to date: nothing missed.
      const { ack: fresh } = await joined(b, bob, room.id, 7);
      expect(fresh.data.messages).toEqual([]);
    });

    it('sequence numbers stay gapless and unique under concurrent sends through both instances', async () => {
      const users = await Promise.all(Array.from({ length: 8 }, () => registerUser(a)));
      const room = await createRoom(a, users[0], { memberIds: users.slice(1).map((u) => u.id) });
      const sockets = await Promise.all(users.map(async (u, i) => (await joined(i % 2 ? b : a, u, room.id)).socket));
      const acks = await Promise.all(sockets.flatMap((s, i) => Array.from({ length: 5 }, (_, j) => send(s, room.id, `u${i} m${j}`))));
      expect(acks.every((x) => x.ok)).toBe(true);
      const seqs = acks.map((x) => x.data.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const rooms = await http(b).get('/api/chat/rooms').set('authorization', bearer(users[3])).expect(200);
      expect(rooms.body.items[0]).toMatchObject({ id: room.id, lastSeq: 40 });
    });

    it('a flood from one user is refused (ack RATE_LIMITED, REST 429 with Retry-After) without hurting others', async () => {
      const flooder = await registerUser(a);
      const calm = await registerUser(a);
      const room = await createRoom(a, flooder, { memberIds: [calm.id] });
      const { socket: fs } = await joined(a, flooder, room.id);
      const { socket: cs } = await joined(b, calm, room.id);
      const limit = 30;
      const acks = await Promise.all(Array.from({ length: limit + 10 }, (_, i) => send(fs, room.id, `spam ${i}`)));
      const refused = acks.filter((x) => !x.ok);
      expect(acks.filter((x) => x.ok)).toHaveLength(limit);
      expect(refused).toHaveLength(10);
      expect(refused[0].error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/too fast/) });
      const rest = await http(b).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(flooder)).send({ content: 'more' }).expect(429);
      expect(Number(rest.headers['retry-after'])).toBeGreaterThan(0);
      // The other user is unaffected, and the socket of the flooder still works for other events.
      expect((await send(cs, room.id, 'I can still talk')).ok).toBe(true);
      expect((await emitAck(fs, 'whoami', {})).ok).toBe(true);
    });
  });

  describe('typing', () => {
    it('start/stop over Socket.IO and REST reach the other members (not the typist); users list shows it', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const room = await createRoom(a, alice, { memberIds: [bob.id] });
      const { socket: as } = await joined(a, alice, room.id);
      const { socket: bs } = await joined(b, bob, room.id);
      const echo = collect(as, 'typing_started');

      const started = nextEvent(bs, 'typing_started');
      expect(await emitAck(as, 'start_typing', { roomId: room.id })).toEqual({ ok: true, data: { roomId: room.id, typing: true } });
      expect(await started).toEqual({ roomId: room.id, userId: alice.id });
      const users = await http(b).get(`/api/chat/rooms/${room.id}/users`).set('authorization', bearer(bob)).expect(200);
      expect(users.body).toEqual(
        expect.arrayContaining([
          { userId: alice.id, username: alice.username, online: true, status: 'online', typing: true, lastSeenAt: expect.any(String), role: 'owner', joinedAt: expect.any(String) },
          expect.objectContaining({ userId: bob.id, typing: false, online: true }),
        ]),
      );
      const stopped = nextEvent(bs, 'typing_stopped');
      await emitAck(as, 'stop_typing', { roomId: room.id });
      expect(await stopped).toEqual({ roomId: room.id, userId: alice.id });
      await emitAck(as, 'whoami', {});
      expect(echo.items).toEqual([]);

      // REST, only for yourself.
      await http(a).put(`/api/chat/rooms/${room.id}/users/${alice.id}/typing`).set('authorization', bearer(bob)).send({ typing: true }).expect(403);
      await http(a).put(`/api/chat/rooms/${room.id}/users/${bob.id}/typing`).set('authorization', bearer(bob)).send({ typing: 'yes' }).expect(400);
      const viaRest = nextEvent(as, 'typing_started');
      await http(a).put(`/api/chat/rooms/${room.id}/users/${bob.id}/typing`).set('authorization', bearer(bob)).send({ typing: true }).expect(204);
      expect(await viaRest).toEqual({ roomId: room.id, userId: bob.id });
      // Sending a message ends typing at once.
      const ended = nextEvent(as, 'typing_stopped');
      await send(bs, room.id, 'done typing');
      expect(await ended).toEqual({ roomId: room.id, userId: bob.id });
    });

    it('typing stops by itself after 5 s of silence, announced exactly once although both instances sweep', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const room = await createRoom(a, alice, { memberIds: [bob.id] });
      await joined(a, alice, room.id);
      const { socket: bs } = await joined(b, bob, room.id);
      const stops = collect(bs, 'typing_stopped');
      const started = nextEvent(bs, 'typing_started');
      await http(a).put(`/api/chat/rooms/${room.id}/users/${alice.id}/typing`).set('authorization', bearer(alice)).send({ typing: true }).expect(204);
      await started;
      const t0 = Date.now();
      const stopped = await nextEvent(bs, 'typing_stopped', () => true, 9000);
      const elapsed = Date.now() - t0;
      expect(stopped).toEqual({ roomId: room.id, userId: alice.id });
      expect(elapsed).toBeGreaterThanOrEqual(4500);
      expect(elapsed).toBeLessThan(7500);
      // Let both instances' sweepers run a few more times (nothing to await: we assert an absence).
      await new Promise((r) => setTimeout(r, 1200));
      expect(stops.items).toHaveLength(1);
      const users = await http(a).get(`/api/chat/rooms/${room.id}/users`).set('authorization', bearer(bob)).expect(200);
      expect(users.body.find((u: { userId: string }) => u.userId === alice.id).typing).toBe(false);
    }, 20_000);
  });

  describe('unread counts', () => {
    it('counts others’ messages per member, not one’s own, and marking read clears them', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const room = await createRoom(a, alice, { memberIds: [bob.id] });
      const { socket: as } = await joined(a, alice, room.id);
      for (const c of ['1', '2', '3']) await send(as, room.id, c);
      const unread = async (u: TestUser) =>
        (await http(b).get('/api/chat/rooms').set('authorization', bearer(u)).expect(200)).body.items.find((r: { id: string }) => r.id === room.id)
          .unreadCount;
      expect(await unread(bob)).toBe(3);
      expect(await unread(alice)).toBe(0);

      const partial = await http(a).post(`/api/chat/rooms/${room.id}/read`).set('authorization', bearer(bob)).send({ seq: 2 }).expect(200);
      expect(partial.body).toEqual({ roomId: room.id, lastReadSeq: 2, lastSeq: 3, unreadCount: 1 });
      // Never backwards.
      await http(a).post(`/api/chat/rooms/${room.id}/read`).set('authorization', bearer(bob)).send({ seq: 1 }).expect(200);
      expect(await unread(bob)).toBe(1);
      const { socket: bs } = await joined(b, bob, room.id);
      expect(await emitAck(bs, 'mark_room_read', { roomId: room.id })).toEqual({ ok: true, data: { roomId: room.id, lastReadSeq: 3, lastSeq: 3, unreadCount: 0 } });
      expect(await unread(bob)).toBe(0);
      // Bob replying reads the room for him and adds one unread for Alice.
      await send(bs, room.id, 'reply');
      expect(await unread(alice)).toBe(1);
      expect(await unread(bob)).toBe(0);
      // A newcomer to a public room starts with nothing unread.
      const carol = await registerUser(a);
      await http(a).post(`/api/chat/rooms/${room.id}/join`).set('authorization', bearer(carol)).expect(200);
      expect(await unread(carol)).toBe(0);
      // Someone who is not a member has no read state to move.
      const dave = await registerUser(a);
      await http(a).post(`/api/chat/rooms/${room.id}/read`).set('authorization', bearer(dave)).send({}).expect(403);
    });
  });

  describe('GraphQL', () => {
    it('messageAdded and typingChanged deliver across instances; queries and mutations share the rules', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const created = await gql(
        a,
        'mutation($i: CreateChatRoomInput!) { createChatRoom(input: $i) { id name isPrivate memberCount role } }',
        { i: { name: 'gql room', isPrivate: true, memberIds: [bob.id] } },
        alice.token,
      ).expect(200);
      const room = created.body.data.createChatRoom;
      expect(room).toMatchObject({ name: 'gql room', isPrivate: true, memberCount: 2, role: 'owner' });

      const msgs = subscribe(gqlWs(b, bob.token), 'subscription($r: ID!) { messageAdded(roomId: $r) { id roomId seq senderId content clientMessageId } }', {
        r: room.id,
      });
      const typing = subscribe(gqlWs(b, bob.token), 'subscription($r: ID!) { typingChanged(roomId: $r) { roomId userId typing } }', { r: room.id });
      await waitForGqlSubscriber(b, `chat:msg:${room.id}`);
      await waitForGqlSubscriber(b, `chat:typing:${room.id}`);

      const sent = await gql(
        a,
        'mutation($r: ID!, $i: SendChatMessageInput!) { sendChatMessage(roomId: $r, input: $i) { id seq content } }',
        { r: room.id, i: { content: 'via graphql', clientMessageId: 'g-1' } },
        alice.token,
      ).expect(200);
      expect(sent.body.data.sendChatMessage).toMatchObject({ seq: 1, content: 'via graphql' });
      expect(((await msgs.next()) as any).data.messageAdded).toEqual({
        id: sent.body.data.sendChatMessage.id,
        roomId: room.id,
        seq: 1,
        senderId: alice.id,
        content: 'via graphql',
        clientMessageId: 'g-1',
      });
      // A Socket.IO send reaches the GraphQL subscriber too.
      const { socket: as } = await joined(a, alice, room.id);
      await send(as, room.id, 'via socket');
      expect(((await msgs.next()) as any).data.messageAdded).toMatchObject({ seq: 2, content: 'via socket' });

      await emitAck(as, 'start_typing', { roomId: room.id });
      expect(((await typing.next()) as any).data.typingChanged).toEqual({ roomId: room.id, userId: alice.id, typing: true });
      await emitAck(as, 'stop_typing', { roomId: room.id });
      expect(((await typing.next()) as any).data.typingChanged).toEqual({ roomId: room.id, userId: alice.id, typing: false });

      const page = await gql(
        b,
        'query($r: ID!) { chatMessages(roomId: $r, limit: 1) { items { seq content } nextCursor } chatRooms { items { id unreadCount } } chatRoomUsers(roomId: $r) { userId online typing } }',
        { r: room.id },
        bob.token,
      ).expect(200);
      expect(page.body.data.chatMessages.items).toEqual([{ seq: 2, content: 'via socket' }]);
      expect(page.body.data.chatMessages.nextCursor).toEqual(expect.any(String));
      expect(page.body.data.chatRooms.items).toEqual([{ id: room.id, unreadCount: 2 }]);
      expect(page.body.data.chatRoomUsers).toHaveLength(2);
      const read = await gql(b, 'mutation($r: ID!) { markChatRoomRead(roomId: $r) { unreadCount lastReadSeq } }', { r: room.id }, bob.token).expect(200);
      expect(read.body.data.markChatRoomRead).toEqual({ unreadCount: 0, lastReadSeq: 2 });
      const badArg = await gql(b, 'query { chatMessages(roomId: "nope") { items { id } } }', {}, bob.token).expect(200);
      expect(badArg.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    });

    it('publicRoomChanged follows the public list across instances: created, joined, left; private rooms stay unannounced', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const viewer = await registerUser(a);
      const sub = subscribe(gqlWs(a, viewer.token), 'subscription { publicRoomChanged { id name memberCount } }');
      await waitForGqlSubscriber(a, 'chat:public-rooms');
      const hidden = await createRoom(b, alice, { isPrivate: true, memberIds: [bob.id] });
      const room = await createRoom(b, alice);
      const seen: { id: string; name: string; memberCount: number }[] = [];
      const next = async () => {
        const e = ((await sub.next()) as any).data.publicRoomChanged;
        seen.push(e);
        return e;
      };
      expect(await next()).toEqual({ id: room.id, name: room.name, memberCount: 1 });
      await http(b).post(`/api/chat/rooms/${room.id}/join`).set('authorization', bearer(bob)).expect(200);
      expect(await next()).toEqual({ id: room.id, name: room.name, memberCount: 2 });
      await http(b).post(`/api/chat/rooms/${room.id}/leave`).set('authorization', bearer(bob)).expect(204);
      expect(await next()).toEqual({ id: room.id, name: room.name, memberCount: 1 });
      // The private room's creation and its members' comings and goings were never announced.
      await http(b).post(`/api/chat/rooms/${hidden.id}/leave`).set('authorization', bearer(bob)).expect(204);
      await expect(sub.next(300)).rejects.toThrow(/Timed out/);
      expect(seen.map((e) => e.id)).not.toContain(hidden.id);
    });

    it('a subscription ends when its subscriber leaves the room', async () => {
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const room = await createRoom(a, alice, { memberIds: [bob.id] });
      const client = gqlWs(a, bob.token);
      const received: unknown[] = [];
      const completed = new Promise<void>((resolve, reject) =>
        client.subscribe(
          { query: 'subscription($r: ID!) { messageAdded(roomId: $r) { seq } }', variables: { r: room.id } },
          { next: (v) => received.push(v), error: reject, complete: resolve },
        ),
      );
      await waitForGqlSubscriber(a, `chat:left:${room.id}:${bob.id}`);
      await http(b).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', bearer(alice)).send({ content: 'before' }).expect(201);
      await http(b).post(`/api/chat/rooms/${room.id}/leave`).set('authorization', bearer(bob)).expect(204);
      await completed;
      expect(received).toEqual([{ data: { messageAdded: { seq: 1 } } }]);
    });
  });
});
