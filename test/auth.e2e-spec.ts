import { startTestApp, TestApp, ADMIN } from './harness/app';
import { closeClients, http, loginAdmin, registerUser } from './harness/clients';

describe('auth (REST)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await closeClients();
    await t.close();
  });

  it('registers a user and a creator, and never an admin', async () => {
    const res = await http(t)
      .post('/api/auth/register')
      .send({ username: 'carol', email: 'Carol@Example.test', password: 'password-123' })
      .expect(201);
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: 900,
      tokenType: 'Bearer',
      user: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'carol', email: 'carol@example.test', roles: ['user'], createdAt: expect.any(String) },
    });
    const creator = await http(t)
      .post('/api/auth/register')
      .send({ username: 'dave', email: 'dave@example.test', password: 'password-123', role: 'creator' })
      .expect(201);
    expect(creator.body.user.roles).toEqual(['user', 'creator']);

    const admin = await http(t)
      .post('/api/auth/register')
      .send({ username: 'mallory', email: 'mallory@example.test', password: 'password-123', role: 'admin' })
      .expect(400);
    expect(admin.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(JSON.stringify(admin.body.message)).toContain('role');
    await http(t).post('/api/auth/login').send({ email: 'mallory@example.test', password: 'password-123' }).expect(401);
  });

  it('refuses invalid input with a 400 naming the fields, and duplicates with 409', async () => {
    const bad = await http(t).post('/api/auth/register').send({ username: 'x', email: 'nope', password: 'short' }).expect(400);
    const msg = JSON.stringify(bad.body.message);
    expect(msg).toContain('username');
    expect(msg).toContain('email');
    expect(msg).toContain('password');

    await http(t).post('/api/auth/register').send({ username: 'erin', email: 'erin@example.test', password: 'password-123' }).expect(201);
    const dupEmail = await http(t).post('/api/auth/register').send({ username: 'erin2', email: 'ERIN@example.test', password: 'password-123' }).expect(409);
    expect(dupEmail.body.message).toMatch(/email/);
    const dupName = await http(t).post('/api/auth/register').send({ username: 'ERIN', email: 'erin3@example.test', password: 'password-123' }).expect(409);
    expect(dupName.body.message).toMatch(/username/);
  });

  it('logs in, serves /me, and refuses wrong passwords without saying which part was wrong', async () => {
    const u = await registerUser(t);
    const login = await http(t).post('/api/auth/login').send({ email: u.email.toUpperCase(), password: u.password }).expect(200);
    expect(login.body.user.id).toBe(u.id);
    const me = await http(t).get('/api/auth/me').set('authorization', `Bearer ${login.body.accessToken}`).expect(200);
    expect(me.body).toMatchObject({ id: u.id, username: u.username, email: u.email, roles: ['user'] });

    const wrong = await http(t).post('/api/auth/login').send({ email: u.email, password: 'wrong-password' }).expect(401);
    const unknown = await http(t).post('/api/auth/login').send({ email: 'nobody@example.test', password: 'wrong-password' }).expect(401);
    expect(wrong.body.message).toBe(unknown.body.message);
  });

  it('refuses missing, malformed, forged and expired tokens with 401', async () => {
    await http(t).get('/api/auth/me').expect(401);
    await http(t).get('/api/auth/me').set('authorization', 'Bearer not.a.jwt').expect(401);
    const u = await registerUser(t);
    const [h, p] = u.token.split('.');
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${h}.${p}.forgedsignature`).expect(401);
    // alg "none" must never be accepted
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${noneHeader}.${p}.`).expect(401);
    const { JwtService } = await import('@nestjs/jwt');
    const expired = new JwtService().sign(
      { roles: ['user'], sid: '00000000-0000-4000-8000-000000000000', typ: 'access', exp: Math.floor(Date.now() / 1000) - 10 },
      { secret: t.config.jwt.secret, subject: u.id, issuer: t.config.jwt.issuer, algorithm: 'HS256' },
    );
    const res = await http(t).get('/api/auth/me').set('authorization', `Bearer ${expired}`).expect(401);
    expect(res.body.message).toMatch(/expired/i);
  });

  it('rotates refresh tokens, and a reused refresh token revokes the whole session', async () => {
    const u = await registerUser(t);
    const first = await http(t).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(200);
    expect(first.body.refreshToken).not.toBe(u.refreshToken);
    expect(first.body.user.id).toBe(u.id);
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${first.body.accessToken}`).expect(200);

    // The old token again: refused, and the newest token of the family dies with it.
    const reuse = await http(t).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(401);
    expect(reuse.body.message).toMatch(/already used/);
    await http(t).post('/api/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(401);
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${first.body.accessToken}`).expect(401);

    // Other sessions of the same user are unaffected.
    const other = await http(t).post('/api/auth/login').send({ email: u.email, password: u.password }).expect(200);
    await http(t).post('/api/auth/refresh').send({ refreshToken: other.body.refreshToken }).expect(200);
    await http(t).post('/api/auth/refresh').send({ refreshToken: 'garbage-token-value' }).expect(401);
  });

  it('lets only one of two concurrent refreshes with the same token win', async () => {
    const u = await registerUser(t);
    const results = await Promise.all([1, 2].map(() => http(t).post('/api/auth/refresh').send({ refreshToken: u.refreshToken })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('logout ends the session at once: its access and refresh tokens stop working', async () => {
    const u = await registerUser(t);
    const other = await http(t).post('/api/auth/login').send({ email: u.email, password: u.password }).expect(200);
    await http(t).post('/api/auth/logout').set('authorization', `Bearer ${u.token}`).send({ refreshToken: u.refreshToken }).expect(204);
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(401);
    await http(t).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(401);
    // The other device stays signed in.
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${other.body.accessToken}`).expect(200);
    await http(t).post('/api/auth/logout').expect(401);
  });

  it('throttles password guessing per account and IP with 429 and Retry-After', async () => {
    const u = await registerUser(t);
    const limit = t.config.throttle.loginAccountLimit;
    for (let i = 0; i < limit; i++) {
      await http(t).post('/api/auth/login').send({ email: u.email, password: `guess-${i}` }).expect(401);
    }
    const blocked = await http(t).post('/api/auth/login').send({ email: u.email, password: u.password }).expect(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    // Another account from the same IP is not locked out by this one's failures.
    const v = await registerUser(t);
    await http(t).post('/api/auth/login').send({ email: v.email, password: v.password }).expect(200);
  });

  it('seeds the admin from ADMIN_EMAIL/ADMIN_PASSWORD; only admins change roles, and old tokens then stop working', async () => {
    const admin = await loginAdmin(t);
    expect(admin.roles).toContain('admin');
    expect(admin.email).toBe(ADMIN.email);
    const u = await registerUser(t);

    await http(t).patch(`/api/admin/users/${u.id}`).set('authorization', `Bearer ${u.token}`).send({ roles: ['admin'] }).expect(403);
    await http(t).patch(`/api/admin/users/${u.id}`).send({ roles: ['creator'] }).expect(401);
    await http(t).patch(`/api/admin/users/${u.id}`).set('authorization', `Bearer ${admin.token}`).send({ roles: ['superuser'] }).expect(400);
    await http(t).patch(`/api/admin/users/not-a-uuid`).set('authorization', `Bearer ${admin.token}`).send({ roles: ['creator'] }).expect(400);
    await http(t)
      .patch(`/api/admin/users/00000000-0000-4000-8000-000000000000`)
      .set('authorization', `Bearer ${admin.token}`)
      .send({ roles: ['creator'] })
      .expect(404);

    const res = await http(t).patch(`/api/admin/users/${u.id}`).set('authorization', `Bearer ${admin.token}`).send({ roles: ['creator'] }).expect(200);
    expect(res.body.roles.sort()).toEqual(['creator', 'user']);
    // The token minted before the change carries stale roles: refused until refreshed.
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(401);
    // No waiting: the check is a per-user token version, not the one-second iat.
    const refreshed = await http(t).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(200);
    expect(refreshed.body.user.roles.sort()).toEqual(['creator', 'user']);
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${refreshed.body.accessToken}`).expect(200);

    const self = await http(t).patch(`/api/admin/users/${admin.id}`).set('authorization', `Bearer ${admin.token}`).send({ roles: ['user'] }).expect(409);
    expect(self.body.message).toMatch(/own admin/);
  });
});
