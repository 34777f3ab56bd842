import { startTestApp, TestApp } from './harness/app';
import { http, registerUser, loginAdmin, closeClients } from './harness/clients';

describe('HTTP edge: validation, errors, limits, headers, health, metrics, queue dashboard', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { THROTTLE_LIMIT: '40', THROTTLE_TTL_SECONDS: '60', CORS_ORIGINS: 'http://localhost:8080,https://app.example.com' } });
  });
  afterAll(async () => {
    await closeClients();
    await t.close();
  });

  it('answers malformed JSON with 400 in the contract shape, with a correlation id', async () => {
    const res = await http(t).post('/api/auth/login').set('content-type', 'application/json').send('{"email": ').expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Malformed JSON in request body', correlationId: expect.any(String) });
    expect(res.headers['x-request-id']).toBe(res.body.correlationId);
  });

  it('keeps a sane caller-given X-Request-Id', async () => {
    const res = await http(t).get('/api/nope').set('x-request-id', 'trace-abc-12345').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found', correlationId: 'trace-abc-12345' });
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const big = JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(1024 * 1024 + 10) });
    const res = await http(t).post('/api/auth/login').set('content-type', 'application/json').send(big).expect(413);
    expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('refuses unknown fields and wrong types, naming them', async () => {
    const res = await http(t).post('/api/auth/login').send({ email: 'a@b.c', password: 'x', isAdmin: true }).expect(400);
    expect(res.body.message).toEqual(expect.arrayContaining(['property isAdmin should not exist']));
    const typed = await http(t).post('/api/auth/login').send({ email: 12, password: ['x'] }).expect(400);
    expect(JSON.stringify(typed.body.message)).toMatch(/email/);
    expect(JSON.stringify(typed.body.message)).toMatch(/password/);
  });

  it('sets helmet security headers and hides the framework', async () => {
    const res = await http(t).get('/api/health').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows CORS only for configured origins', async () => {
    const ok = await http(t).options('/api/auth/login').set('origin', 'https://app.example.com').set('access-control-request-method', 'POST');
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const bad = await http(t).options('/api/auth/login').set('origin', 'https://evil.example.net').set('access-control-request-method', 'POST');
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('reports health 200 with both dependencies up', async () => {
    const res = await http(t).get('/api/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } });
  });

  it('exposes Prometheus metrics: HTTP latency, sockets, queue depths', async () => {
    await http(t).get('/api/health');
    const res = await http(t).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/api\/health"/);
    expect(res.text).toContain('socketio_connected_sockets');
    expect(res.text).toMatch(/bullmq_queue_jobs\{queue="maintenance",state="waiting"\}/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });

  it('guards the queue dashboard: anonymous 401 with a Basic challenge, non-admin 403, admin 200', async () => {
    const anon = await http(t).get('/admin/queues').expect(401);
    expect(anon.headers['www-authenticate']).toMatch(/^Basic/);
    const u = await registerUser(t);
    await http(t).get('/admin/queues').set('authorization', `Bearer ${u.token}`).expect(403);
    await http(t).get('/admin/queues').auth(u.email, u.password).expect(403);
    await http(t).get('/admin/queues').auth(u.email, 'wrong').expect(401);
    const admin = await loginAdmin(t);
    const page = await http(t).get('/admin/queues').set('authorization', `Bearer ${admin.token}`).expect(200);
    expect(page.text).toContain('<html');
    const api = await http(t).get('/admin/queues/api/queues').auth(admin.email, admin.password).expect(200);
    expect(JSON.stringify(api.body)).toContain('maintenance');
  });

  it('rate-limits per user when signed in and per IP when anonymous, with Retry-After', async () => {
    const busy = await registerUser(t);
    const calm = await registerUser(t);
    let limited: any;
    for (let i = 0; i < 60 && !limited; i++) {
      const r = await http(t).get('/api/auth/me').set('authorization', `Bearer ${busy.token}`);
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(200);
    }
    expect(limited).toBeDefined();
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    // Another user from the same IP is not affected by the busy one.
    await http(t).get('/api/auth/me').set('authorization', `Bearer ${calm.token}`).expect(200);
  });
});
