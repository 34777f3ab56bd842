import { startTestApp, TestApp } from './harness/app';
import { closeClients, collect, connectSocket, emitAck, http, nextEvent, registerUser, TestUser } from './harness/clients';

/**
 * Issue 11, point 9: presence fan-out is bounded. A user's changes are coalesced (announced as
 * their net effect), status changes are rate limited per user, and rooms above
 * PRESENCE_ROOM_FANOUT_MAX_MEMBERS do not push presence to their members.
 * These knobs are part of AppConfig (`messaging.presence`), passed to the test app's configuration.
 */
describe('presence fan-out bounds', () => {
  const knobs: Record<string, string> = {
    PRESENCE_STATUS_CHANGES_PER_MINUTE: '5',
    PRESENCE_ROOM_FANOUT_MAX_MEMBERS: '3',
    PRESENCE_COALESCE_MS: '300',
  };
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: knobs });
  });
  afterAll(async () => {
    await closeClients();
    await t.close();
  });

  const room = (owner: TestUser, members: TestUser[]) =>
    http(t)
      .post('/api/chat/rooms')
      .set('authorization', `Bearer ${owner.token}`)
      .send({ name: 'r', isPrivate: true, memberIds: members.map((m) => m.id) })
      .expect(201);

  it('alternating update_presence is rate limited and coalesced: far fewer announcements than changes', async () => {
    const [user, mate] = await Promise.all([registerUser(t), registerUser(t)]);
    await room(mate, [user]);
    const mateSocket = await connectSocket(t, mate.token);
    const online = nextEvent(mateSocket, 'user_online', (p: any) => p.userId === user.id);
    const s = await connectSocket(t, user.token);
    await online;

    const seen = collect(mateSocket, 'user_online');
    const sent = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'online' : 'away'));
    const acks = await Promise.all(sent.map((status) => emitAck(s, 'update_presence', { status })));
    const accepted = acks.filter((a) => a.ok).length;
    const limited = acks.filter((a) => !a.ok);
    expect(accepted).toBe(5);
    expect(limited).toHaveLength(5);
    expect(limited[0].error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/5 a minute/) });

    // Going offline is announced after whatever the alternation left pending.
    const offline = nextEvent(mateSocket, 'user_offline', (p: any) => p.userId === user.id);
    s.close();
    await offline;
    const fromUser = seen.items.filter((p: any) => p.userId === user.id);
    // Five accepted changes within one window (away, online, away, online, away): at most one
    // announcement (the net "away"), never one per change.
    expect(fromUser.length).toBeLessThanOrEqual(1);
    expect(fromUser.length).toBeLessThan(accepted);
  });

  it('does not push presence through rooms above PRESENCE_ROOM_FANOUT_MAX_MEMBERS', async () => {
    const [user, mate, x, y, z] = await Promise.all(Array.from({ length: 5 }, () => registerUser(t)));
    await room(mate, [user]); // 2 members: presence is pushed
    await room(x, [user, y, z]); // 4 members: too large, read on demand
    const mateSocket = await connectSocket(t, mate.token);
    const xSocket = await connectSocket(t, x.token);
    const leak = collect(xSocket, 'user_online');
    const leakOff = collect(xSocket, 'user_offline');

    const online = nextEvent(mateSocket, 'user_online', (p: any) => p.userId === user.id);
    const s = await connectSocket(t, user.token);
    await online;
    const offline = nextEvent(mateSocket, 'user_offline', (p: any) => p.userId === user.id);
    s.close();
    await offline;
    expect(leak.items.filter((p: any) => p.userId === user.id)).toEqual([]);
    expect(leakOff.items.filter((p: any) => p.userId === user.id)).toEqual([]);
    // The large room's members still read it on demand.
    const rooms = (await http(t).get('/api/chat/rooms').set('authorization', `Bearer ${x.token}`).expect(200)).body.items;
    const users = (await http(t).get(`/api/chat/rooms/${rooms[0].id}/users`).set('authorization', `Bearer ${x.token}`).expect(200)).body;
    expect(users.find((u: any) => u.userId === user.id)).toMatchObject({ online: false, status: 'offline' });
  });
});
