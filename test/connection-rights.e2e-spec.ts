import jwt from 'jsonwebtoken';
import Redis from 'ioredis';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, connectSocket, emitAck, http, loginAdmin, nextEvent, registerUser, TestUser } from './harness/clients';
import { closeTrackedClients, disconnected, trackedGqlWs } from './harness/ws';

/**
 * Long-lived connections keep no rights that a REST call would no longer have (contract §2):
 * sign-out, refresh-family revocation, role changes and token expiry end graphql-ws connections
 * and Socket.IO sockets on every instance, and every graphql-ws operation re-checks the session.
 */
describe('long-lived connections lose revoked rights', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    // Sockets re-check their session on every event here (default: at most once a second).
    const env = { SOCKET_RECHECK_MS: '0' };
    a = await startTestApp({ env });
    b = await startTestApp({ shareWith: a, env });
    admin = await loginAdmin(a);
  });
  afterAll(async () => {
    await closeClients();
    await closeTrackedClients();
    await b.close();
    await a.close();
  });

  const login = async (u: TestUser, t: TestApp = a) =>
    (await http(t).post('/api/auth/login').send({ email: u.email, password: u.password }).expect(200)).body as {
      accessToken: string;
      refreshToken: string;
    };
  const setRoles = (userId: string, roles: string[]) =>
    http(a).patch(`/api/admin/users/${userId}`).set('authorization', `Bearer ${admin.token}`).send({ roles }).expect(200);

  it('sign-out closes that session’s graphql-ws connections (4401) and sockets on the other instance; other sessions stay', async () => {
    const u = await registerUser(a);
    const other = await login(u);
    const gone = trackedGqlWs(b, u.token);
    const stays = trackedGqlWs(b, other.accessToken);
    await Promise.all([gone.connected, stays.connected]);
    const socket = await connectSocket(b, u.token);
    const socketGone = disconnected(socket);
    const told = nextEvent(socket, 'session_revoked');

    await http(a).post('/api/auth/logout').set('authorization', `Bearer ${u.token}`).send({ refreshToken: u.refreshToken }).expect(204);

    expect((await gone.closed).code).toBe(4401);
    expect((await told).reason).toMatch(/signed out/i);
    await socketGone;
    const me = await stays.run('{ me { id } }');
    expect(me.data?.me.id).toBe(u.id);
  });

  it('sign-out everywhere ends every session of the user: other sessions’ tokens, refresh tokens and connections', async () => {
    const u = await registerUser(a);
    const other = await login(u);
    const gone = trackedGqlWs(b, other.accessToken);
    await gone.connected;
    const socket = await connectSocket(b, other.accessToken);
    const socketGone = disconnected(socket);

    await http(a).post('/api/auth/logout-all').set('authorization', `Bearer ${u.token}`).expect(204);

    expect((await gone.closed).code).toBe(4401);
    await socketGone;
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${other.accessToken}`).expect(401);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(401);
    await http(a).post('/api/auth/refresh').send({ refreshToken: other.refreshToken }).expect(401);
    // A fresh sign-in works at once.
    const again = await login(u, b);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${again.accessToken}`).expect(200);
  });

  it('with the local session cache warm on the other instance, sign-out everywhere and a role change refuse its very next request', async () => {
    // Both instances cache the session check (AUTH_CACHE_TTL_MS, default on): warm b's cache first.
    expect(a.config.authCacheTtlMs).toBeGreaterThan(0);
    const u = await registerUser(a);
    const other = await login(u, b);
    for (const t of [u.token, other.accessToken]) {
      await http(b).get('/api/auth/me').set('authorization', `Bearer ${t}`).expect(200);
      await http(b).get('/api/auth/me').set('authorization', `Bearer ${t}`).expect(200);
    }
    await http(a).post('/api/auth/logout-all').set('authorization', `Bearer ${u.token}`).expect(204);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${other.accessToken}`).expect(401);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(401);

    const v = await registerUser(a);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${v.token}`).expect(200);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${v.token}`).expect(200);
    await setRoles(v.id, ['creator']);
    const refused = await http(b).get('/api/auth/me').set('authorization', `Bearer ${v.token}`).expect(401);
    expect(refused.body.message).toMatch(/roles changed/i);
    // ...and a sign-in on b straight after works there.
    const fresh = await login(v, b);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${fresh.accessToken}`).expect(200);
  });

  it('refresh-token reuse revokes the family: its connections close on every instance', async () => {
    const u = await registerUser(a);
    const rotated = (await http(a).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(200)).body;
    const conn = trackedGqlWs(b, rotated.accessToken);
    await conn.connected;
    const socket = await connectSocket(b, rotated.accessToken);
    const socketGone = disconnected(socket);
    // The old refresh token presented again: theft is assumed, the family is revoked.
    await http(a).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(401);
    expect((await conn.closed).code).toBe(4401);
    await socketGone;
  });

  it('a demoted admin’s connections close everywhere; a sign-in in the same second works and is no longer admin', async () => {
    const u = await registerUser(a);
    await setRoles(u.id, ['admin']);
    // Straight after the role change (same second, most likely): the fresh token works.
    const promoted = await login(u);
    await http(a).get('/api/auth/me').set('authorization', `Bearer ${promoted.accessToken}`).expect(200);
    const conn = trackedGqlWs(b, promoted.accessToken);
    await conn.connected;
    const adminQuery = '{ adminP2pEscrows(limit: 1) { items { id } } }';
    expect((await conn.run(adminQuery)).errors).toBeUndefined();
    const socket = await connectSocket(b, promoted.accessToken);
    expect((await emitAck(socket, 'whoami', {})).data.roles).toContain('admin');
    const socketGone = disconnected(socket);

    await setRoles(u.id, ['user']);

    expect([4401, 4403]).toContain((await conn.closed).code);
    await socketGone;
    await http(a).get('/api/auth/me').set('authorization', `Bearer ${promoted.accessToken}`).expect(401);
    const fresh = await login(u, b);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${fresh.accessToken}`).expect(200);
    const again = trackedGqlWs(b, fresh.accessToken);
    await again.connected;
    const refused = await again.run(adminQuery);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a promoted user’s graphql-ws connection goes on with the new role at once (nothing lost, nothing to close)', async () => {
    const u = await registerUser(a);
    const conn = trackedGqlWs(b, u.token);
    await conn.connected;
    const adminQuery = '{ adminP2pEscrows(limit: 1) { items { id } } }';
    expect((await conn.run(adminQuery)).errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
    const socket = await connectSocket(b, u.token);
    await setRoles(u.id, ['admin']);
    expect((await conn.run(adminQuery)).errors).toBeUndefined();
    expect((await conn.run('{ me { id roles } }')).data?.me.roles).toContain('admin');
    expect((await emitAck(socket, 'whoami', {})).data.roles).toContain('admin');
    expect(socket.connected).toBe(true);
    // ...while the REST token minted before the change must be refreshed.
    await http(a).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(401);
  });

  it('a sign-in right after each of several role changes always gives a working token, and the previous one is refused', async () => {
    const u = await registerUser(a);
    let previous = u.token;
    for (const roles of [['creator'], ['user'], ['creator']]) {
      await setRoles(u.id, roles);
      const fresh = await login(u);
      const me = await http(a).get('/api/auth/me').set('authorization', `Bearer ${fresh.accessToken}`).expect(200);
      expect(me.body.roles.sort()).toEqual(['user', ...roles.filter((r) => r !== 'user')].sort());
      await http(a).get('/api/auth/me').set('authorization', `Bearer ${previous}`).expect(401);
      previous = fresh.accessToken;
    }
    // A refresh straight after a role change works too.
    await setRoles(u.id, ['user']);
    const refreshed = (await http(a).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(200)).body;
    await http(a).get('/api/auth/me').set('authorization', `Bearer ${refreshed.accessToken}`).expect(200);
  });

  it('every graphql-ws operation re-checks the session, even if no revocation message reached the instance', async () => {
    const u = await registerUser(a);
    const conn = trackedGqlWs(a, u.token);
    await conn.connected;
    expect((await conn.run('{ me { id } }')).data?.me.id).toBe(u.id);
    // Revoke the session in the store only, as if the pub/sub message had been lost.
    const sid = (jwt.decode(u.token) as { sid: string }).sid;
    const r = new Redis(a.config.redis.url!);
    try {
      await r.set(`${a.prefix}:auth:revoked-session:${sid}`, '1', 'EX', 600);
    } finally {
      r.disconnect();
    }
    const refused = await conn.run('{ me { id } }');
    expect(refused.data?.me).toBeUndefined();
    expect((await conn.closed).code).toBe(4401);
  });

  it('a socket’s next event is refused after a revocation this instance never heard of, and the socket closes', async () => {
    const u = await registerUser(a);
    const socket = await connectSocket(a, u.token);
    expect((await emitAck(socket, 'whoami', {})).ok).toBe(true);
    const gone = disconnected(socket);
    const sid = (jwt.decode(u.token) as { sid: string }).sid;
    const r = new Redis(a.config.redis.url!);
    try {
      await r.set(`${a.prefix}:auth:revoked-session:${sid}`, '1', 'EX', 600);
    } finally {
      r.disconnect();
    }
    const refused = await emitAck(socket, 'whoami', {});
    expect(refused).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    await gone;
  });

  it('closes graphql-ws connections and disconnects sockets when the access token expires', async () => {
    const u = await registerUser(a);
    // The same session's token, re-signed to expire in two seconds.
    const { iat: _iat, exp: _exp, ...claims } = jwt.decode(u.token) as Record<string, unknown>;
    const short = jwt.sign(claims, a.config.jwt.secret, { algorithm: 'HS256', expiresIn: 2 });
    const conn = trackedGqlWs(b, short);
    await conn.connected;
    const socket = await connectSocket(a, short);
    const told = nextEvent(socket, 'session_revoked', () => true, 10_000);
    const socketGone = disconnected(socket);
    const closed = await conn.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/expired/i);
    expect((await told).reason).toMatch(/expired/i);
    await socketGone;
  });
});
