import { startTestApp, TestApp } from './harness/app';
import { closeClients, connectSocket, emitAck, gql, gqlWs, http, loginAdmin, nextEvent, registerUser, subscribe, TestUser, waitForGqlSubscriber } from './harness/clients';
import { RealtimePublisher } from '../src/core/realtime/realtime.publisher';

describe('Socket.IO and GraphQL infrastructure', () => {
  let t: TestApp;
  let alice: TestUser;
  beforeAll(async () => {
    t = await startTestApp({ env: { THROTTLE_SOCKET_BURST: '10', THROTTLE_SOCKET_EVENTS_PER_SECOND: '1', GRAPHQL_MAX_DEPTH: '4', GRAPHQL_MAX_ALIASES: '3' } });
    alice = await registerUser(t);
  });
  afterAll(async () => {
    await closeClients();
    await t.close();
  });

  describe('Socket.IO', () => {
    it('refuses a connection without a token, or with a bad one, with an error', async () => {
      await expect(connectSocket(t)).rejects.toThrow(/Missing access token/);
      await expect(connectSocket(t, 'nonsense')).rejects.toThrow(/Invalid access token/);
      const u = await registerUser(t);
      await http(t).post('/api/auth/logout').set('authorization', `Bearer ${u.token}`).send({}).expect(204);
      await expect(connectSocket(t, u.token)).rejects.toThrow(/signed out/);
    });

    it('disconnects the sockets of a session that signs out, and only those', async () => {
      const u = await registerUser(t);
      const other = await http(t).post('/api/auth/login').send({ email: u.email, password: u.password }).expect(200);
      const mine = await connectSocket(t, u.token);
      const otherDevice = await connectSocket(t, other.body.accessToken);
      const revoked = nextEvent(mine, 'session_revoked');
      const gone = new Promise((r) => mine.once('disconnect', r));
      await http(t).post('/api/auth/logout').set('authorization', `Bearer ${u.token}`).send({}).expect(204);
      expect(await revoked).toEqual({ reason: 'Signed out' });
      expect(await gone).toBe('io server disconnect');
      expect((await emitAck(otherDevice, 'whoami', {})).data.userId).toBe(u.id);
    });

    it('authenticates from handshake.auth.token and answers acks in the contract shape', async () => {
      const s = await connectSocket(t, alice.token);
      const who = await emitAck(s, 'whoami', {});
      expect(who).toEqual({ ok: true, data: { userId: alice.id, roles: ['user'], socketId: s.id } });
      const pong = await emitAck(s, 'ping', { clientTime: 1234 });
      expect(pong.ok).toBe(true);
      expect(pong.data.clientTime).toBe(1234);
      expect(Math.abs(pong.data.serverTime - Date.now())).toBeLessThan(5000);
    });

    it('answers a bad payload with an error ack naming the field, and the socket stays usable', async () => {
      const s = await connectSocket(t, alice.token);
      const bad = await emitAck(s, 'ping', { clientTime: 'yesterday', extra: 1 });
      expect(bad.ok).toBe(false);
      expect(bad.error.code).toBe('BAD_REQUEST');
      expect(bad.error.message).toMatch(/clientTime/);
      expect(bad.error.message).toMatch(/extra should not exist/);
      const good = await emitAck(s, 'ping', { clientTime: 1 });
      expect(good.ok).toBe(true);
      expect(s.connected).toBe(true);
    });

    it('delivers private events to every socket of the user (every device) and to nobody else', async () => {
      const bob = await registerUser(t);
      const a1 = await connectSocket(t, alice.token);
      const a2 = await connectSocket(t, alice.token, { transports: ['polling'] });
      const b = await connectSocket(t, bob.token);
      let bobGot = false;
      b.on('user_updated', () => (bobGot = true));
      const both = Promise.all([nextEvent(a1, 'user_updated'), nextEvent(a2, 'user_updated')]);
      const view = { id: alice.id, username: alice.username, email: alice.email, roles: ['user'] };
      t.app.get(RealtimePublisher).toUser(alice.id, 'user_updated', { user: view });
      const [p1, p2] = await both;
      expect(p1).toEqual({ user: view });
      expect(p2).toEqual({ user: view });
      // A round trip on bob's socket after the emit proves nothing was queued for him.
      await emitAck(b, 'whoami', {});
      expect(bobGot).toBe(false);
    });

    it('rate-limits events per socket: a flood is refused through the ack, and the socket survives', async () => {
      const s = await connectSocket(t, alice.token);
      const acks = await Promise.all(Array.from({ length: 25 }, (_, i) => emitAck(s, 'ping', { clientTime: i })));
      const limited = acks.filter((a) => !a.ok);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0].error.code).toBe('RATE_LIMITED');
      expect(acks.filter((a) => a.ok).length).toBeLessThanOrEqual(11);
      expect(s.connected).toBe(true);
      // Another socket has its own budget.
      const other = await connectSocket(t, alice.token);
      expect((await emitAck(other, 'ping', { clientTime: 1 })).ok).toBe(true);
    });
  });

  describe('GraphQL', () => {
    it('serves queries over HTTP with the bearer token, and 401-style errors without it', async () => {
      const me = await gql(t, '{ me { id username roles } }', {}, alice.token).expect(200);
      expect(me.body.data.me).toEqual({ id: alice.id, username: alice.username, roles: ['user'] });
      const anon = await gql(t, '{ me { id } }');
      expect(anon.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHORIZED', statusCode: 401 });
    });

    it('runs mutations (register, login) through the same services', async () => {
      const res = await gql(t, 'mutation($i: RegisterDto!) { register(input: $i) { accessToken user { username roles } } }', {
        i: { username: 'gqluser', email: 'gqluser@example.test', password: 'password-123' },
      }).expect(200);
      expect(res.body.data.register.user).toEqual({ username: 'gqluser', roles: ['user'] });
      const bad = await gql(t, 'mutation($i: RegisterDto!) { register(input: $i) { accessToken } }', {
        i: { username: 'x', email: 'bad', password: '1' },
      });
      expect(bad.body.errors[0].extensions.code).toBe('BAD_REQUEST');
      expect(bad.body.errors[0].message).toMatch(/email/);
    });

    it('limits aliases on the live endpoint (depth and cost rules are unit-tested on a recursive schema)', async () => {
      const aliases = await gql(t, '{ a: me { id } b: me { id } c: me { id } d: me { id } }', {}, alice.token);
      expect(aliases.status).toBe(400);
      expect(aliases.body.errors[0].message).toMatch(/aliases/i);
      const fine = await gql(t, '{ a: me { id } b: me { id } }', {}, alice.token).expect(200);
      expect(fine.body.data.a.id).toBe(alice.id);
    });

    it('closes a graphql-ws connection without a valid token with 4401', async () => {
      for (const token of [undefined, 'bad-token']) {
        const client = gqlWs(t, token);
        const sub = subscribe(client, 'subscription { userUpdated { id } }');
        const err = (await sub.failure()) as { code?: number };
        expect(err.code).toBe(4401);
      }
    });

    it('delivers subscription payloads only to the subscribed user', async () => {
      const admin = await loginAdmin(t);
      const bob = await registerUser(t);
      const aliceSub = subscribe(gqlWs(t, alice.token), 'subscription { userUpdated { id roles } }');
      const bobSub = subscribe(gqlWs(t, bob.token), 'subscription { userUpdated { id roles } }');
      const got = aliceSub.next(8000);
      await waitForGqlSubscriber(t, `user-updated:${alice.id}`);
      await waitForGqlSubscriber(t, `user-updated:${bob.id}`);
      await http(t).patch(`/api/admin/users/${alice.id}`).set('authorization', `Bearer ${admin.token}`).send({ roles: ['creator'] }).expect(200);
      const payload = (await got) as any;
      expect(payload.data.userUpdated.id).toBe(alice.id);
      expect(payload.data.userUpdated.roles.sort()).toEqual(['creator', 'user']);
      await expect(bobSub.next(300)).rejects.toThrow(/Timed out/);
    });
  });
});
