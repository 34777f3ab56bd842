import { Client } from 'pg';
import { startTestApp, TestApp } from './harness/app';
import { dbUrl } from './harness/env';
import {
  closeClients,
  collect,
  connectSocket,
  emitAck,
  gqlWs,
  http,
  nextEvent,
  registerUser,
  subscribe,
  TestUser,
  waitForGqlSubscriber,
} from './harness/clients';

/**
 * Presence shared by two instances through Redis: several devices, chosen statuses,
 * user_online / user_offline to room-mates only, lastSeenAt persisted.
 */
describe('presence', () => {
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
  const presenceOf = async (t: TestApp, asker: TestUser, userId: string) =>
    (await http(t).get(`/api/users/${userId}/presence`).set('authorization', bearer(asker)).expect(200)).body;

  /** Two users who share a private room, and a stranger who shares nothing. */
  async function trio() {
    const [user, mate, stranger] = await Promise.all([registerUser(a), registerUser(a), registerUser(a)]);
    await http(a)
      .post('/api/chat/rooms')
      .set('authorization', bearer(mate))
      .send({ name: 'pair', isPrivate: true, memberIds: [user.id] })
      .expect(201);
    return { user, mate, stranger };
  }

  it('serves GET /api/users/:userId/presence to any signed-in user; 400, 401 and 404 as expected', async () => {
    const u = await registerUser(a);
    const other = await registerUser(a);
    expect(await presenceOf(b, other, u.id)).toEqual({ userId: u.id, status: 'offline', lastSeenAt: null });
    await http(a).get(`/api/users/${u.id}/presence`).expect(401);
    await http(a).get(`/api/users/not-a-uuid/presence`).set('authorization', bearer(u)).expect(400);
    await http(a).get(`/api/users/00000000-0000-4000-8000-000000000000/presence`).set('authorization', bearer(u)).expect(404);
  });

  it('online while any device is connected, on either instance; room-mates hear online/offline, strangers do not', async () => {
    const { user, mate, stranger } = await trio();
    const mateSocket = await connectSocket(b, mate.token);
    const strangerSocket = await connectSocket(b, stranger.token);
    const leak = collect(strangerSocket, 'user_online');
    const leakOff = collect(strangerSocket, 'user_offline');
    const gqlMate = subscribe(gqlWs(a, mate.token), 'subscription { presenceChanged { userId status lastSeenAt } }');
    await waitForGqlSubscriber(a, `presence:${mate.id}`);

    const online = nextEvent(mateSocket, 'user_online', (p: any) => p.userId === user.id);
    const phone = await connectSocket(a, user.token);
    expect(await online).toEqual({ userId: user.id, status: 'online' });
    expect(((await gqlMate.next()) as any).data.presenceChanged).toEqual({ userId: user.id, status: 'online', lastSeenAt: expect.any(String) });
    expect(await presenceOf(a, stranger, user.id)).toMatchObject({ userId: user.id, status: 'online' });

    // A second device on the other instance, then the first goes away: still online, nothing announced.
    const laptop = await connectSocket(b, user.token);
    const early = collect(mateSocket, 'user_offline');
    const gone = new Promise((r) => phone.once('disconnect', r));
    phone.close();
    await gone;
    // The disconnect is processed asynchronously on the server: wait until Redis counts one device.
    const { eventually } = await import('./harness/clients');
    await eventually(async () => (await presenceOf(b, mate, user.id)).status === 'online');
    expect(early.items).toEqual([]);

    const offline = nextEvent(mateSocket, 'user_offline', (p: any) => p.userId === user.id);
    laptop.close();
    const off = await offline;
    expect(off).toEqual({ userId: user.id, lastSeenAt: expect.any(String) });
    expect(((await gqlMate.next()) as any).data.presenceChanged).toEqual({ userId: user.id, status: 'offline', lastSeenAt: off.lastSeenAt });
    expect(await presenceOf(a, mate, user.id)).toEqual({ userId: user.id, status: 'offline', lastSeenAt: off.lastSeenAt });
    // Persisted in users.last_seen_at.
    const pg = new Client({ connectionString: dbUrl(a.dbName) });
    await pg.connect();
    try {
      const r = await pg.query('SELECT last_seen_at FROM users WHERE id = $1', [user.id]);
      expect((r.rows[0].last_seen_at as Date).toISOString()).toBe(off.lastSeenAt);
    } finally {
      await pg.end();
    }
    await emitAck(strangerSocket, 'whoami', {});
    expect(leak.items.filter((p: any) => p.userId === user.id)).toEqual([]);
    expect(leakOff.items.filter((p: any) => p.userId === user.id)).toEqual([]);
  });

  it('update_presence: away and busy are announced as user_online with the status; offline makes one invisible', async () => {
    const { user, mate } = await trio();
    const mateSocket = await connectSocket(a, mate.token);
    const cameOnline = nextEvent(mateSocket, 'user_online', (p: any) => p.userId === user.id);
    const s = await connectSocket(b, user.token);
    await cameOnline;

    const away = nextEvent(mateSocket, 'user_online', (p: any) => p.userId === user.id);
    const ack = await emitAck(s, 'update_presence', { status: 'away' });
    expect(ack).toEqual({ ok: true, data: { userId: user.id, status: 'away', lastSeenAt: expect.any(String) } });
    expect(await away).toEqual({ userId: user.id, status: 'away' });
    expect((await presenceOf(a, mate, user.id)).status).toBe('away');

    const invisible = nextEvent(mateSocket, 'user_offline', (p: any) => p.userId === user.id);
    expect((await emitAck(s, 'update_presence', { status: 'offline' })).data.status).toBe('offline');
    await invisible;
    expect((await presenceOf(b, mate, user.id)).status).toBe('offline');
    const users = await http(a).get('/api/chat/rooms').set('authorization', bearer(mate)).expect(200);
    const roomId = users.body.items[0].id;
    const list = await http(a).get(`/api/chat/rooms/${roomId}/users`).set('authorization', bearer(mate)).expect(200);
    expect(list.body.find((m: { userId: string }) => m.userId === user.id)).toMatchObject({ online: false, status: 'offline' });

    const back = nextEvent(mateSocket, 'user_online', (p: any) => p.userId === user.id);
    await emitAck(s, 'update_presence', { status: 'busy' });
    expect(await back).toEqual({ userId: user.id, status: 'busy' });

    const bad = await emitAck(s, 'update_presence', { status: 'sleeping' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/status/) } });
    // The chosen status survives a reconnect.
    s.close();
    await nextEvent(mateSocket, 'user_offline', (p: any) => p.userId === user.id);
    const again = nextEvent(mateSocket, 'user_online', (p: any) => p.userId === user.id);
    await connectSocket(a, user.token);
    expect(await again).toEqual({ userId: user.id, status: 'busy' });
  });

  it('GraphQL presence query and updatePresence mutation use the same state', async () => {
    const { gql } = await import('./harness/clients');
    const u = await registerUser(a);
    const s = await connectSocket(a, u.token);
    await emitAck(s, 'whoami', {});
    const q = await gql(b, 'query($u: ID!) { presence(userId: $u) { userId status } }', { u: u.id }, u.token).expect(200);
    expect(q.body.data.presence.userId).toBe(u.id);
    const m = await gql(b, 'mutation { updatePresence(status: "busy") { status } }', {}, u.token).expect(200);
    expect(m.body.data.updatePresence.status).toBe('busy');
    expect((await presenceOf(a, u, u.id)).status).toBe('busy');
    const bad = await gql(b, 'mutation { updatePresence(status: "nap") { status } }', {}, u.token).expect(200);
    expect(bad.body.errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});
