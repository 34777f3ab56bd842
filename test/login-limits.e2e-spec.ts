import { startTestApp, TestApp } from './harness/app';
import { closeClients, gql, http, registerUser, TestUser } from './harness/clients';
import { closeTrackedClients, trackedGqlWs } from './harness/ws';

/**
 * Sign-in and sign-up limits: a point is taken atomically before the password is checked (so
 * parallel guesses cannot overrun the limit), they are keyed by IP and account (never by a
 * Bearer token the caller attaches), and GraphQL login/register are limited the same way on
 * both transports.
 */
describe('login and register limits', () => {
  let t: TestApp;
  let u: TestUser;
  const LIMIT = 10;
  beforeAll(async () => {
    t = await startTestApp({
      env: { THROTTLE_LOGIN_ACCOUNT_LIMIT: String(LIMIT), THROTTLE_LOGIN_IP_LIMIT: '1000', THROTTLE_REGISTER_PER_MINUTE: '4' },
    });
    u = await registerUser(t); // the first of 4 registrations this minute from 127.0.0.1
  });
  afterAll(async () => {
    await closeClients();
    await closeTrackedClients();
    await t.close();
  });

  const loginMutation = 'mutation($input: LoginDto!) { login(input: $input) { accessToken } }';

  it('checks exactly the limit of 60 parallel wrong passwords for one account; the rest get 429 with Retry-After', async () => {
    const victim = await http(t).post('/api/auth/login').send({ email: u.email, password: u.password }).expect(200);
    expect(victim.body.accessToken).toBeTruthy();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => http(t).post('/api/auth/login').send({ email: u.email, password: `wrong-${i}` })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - LIMIT);
    for (const r of results.filter((x) => x.status === 429)) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits now.
    await http(t).post('/api/auth/login').send({ email: u.email, password: u.password }).expect(429);
  });

  it('a successful sign-in gives its point back', async () => {
    const email = u.email.replace('@', '+ok@');
    await http(t).post('/api/auth/register').send({ username: `ok_${u.username}`.slice(0, 32), email, password: u.password }).expect(201);
    for (let i = 0; i < LIMIT + 5; i++) await http(t).post('/api/auth/login').send({ email, password: u.password }).expect(200);
  });

  it('limits the GraphQL login mutation over HTTP the same way, in parallel', async () => {
    const email = 'nobody-gql@example.test';
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => gql(t, loginMutation, { input: { email, password: `wrong-${i}` } })),
    );
    const codes = results.map((r) => r.body.errors?.[0]?.extensions?.code);
    expect(codes.filter((c) => c === 'UNAUTHORIZED')).toHaveLength(LIMIT);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(30 - LIMIT);
  });

  it('limits the GraphQL login mutation over WebSocket with the same counters (by IP and account)', async () => {
    const email = 'nobody-ws@example.test';
    for (let i = 0; i < LIMIT / 2; i++) await http(t).post('/api/auth/login').send({ email, password: `wrong-${i}` }).expect(401);
    const conn = trackedGqlWs(t, (await http(t).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(200)).body.accessToken);
    await conn.connected;
    const codes: string[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const r = await conn.run(loginMutation, { input: { email, password: `ws-wrong-${i}` } });
      codes.push(r.errors?.[0]?.extensions?.code);
    }
    expect(codes).toEqual([...Array(LIMIT / 2).fill('UNAUTHORIZED'), ...Array(LIMIT / 2).fill('RATE_LIMITED')]);
  });

  it('keys the register limit by IP, whatever Bearer token is attached, on REST and GraphQL', async () => {
    const reg = (n: string) => ({ username: `r_${n}_${Date.now() % 100000}`, email: `r_${n}_${Date.now()}@example.test`, password: 'long enough password' });
    await http(t).post('/api/auth/register').send(reg('a')).expect(201);
    await http(t).post('/api/auth/register').send(reg('b')).expect(201);
    const anon = await http(t).post('/api/auth/register').send(reg('c')).expect(429);
    expect(Number(anon.headers['retry-after'])).toBeGreaterThan(0);
    // A signed-in caller's token does not buy a fresh allowance.
    await http(t).post('/api/auth/register').set('authorization', `Bearer ${u.token}`).send(reg('d')).expect(429);
    const viaGql = await gql(t, 'mutation($input: RegisterDto!) { register(input: $input) { accessToken } }', { input: reg('e') }, u.token);
    expect(viaGql.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });
});
