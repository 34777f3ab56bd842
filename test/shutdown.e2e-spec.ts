import { connect, Socket as TcpSocket } from 'node:net';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, collect, connectSocket, emitAck, http } from './harness/clients';
import { dbUrl, TEST_REDIS_URL } from './harness/env';
import { AppProcess, freePort, spawnApp, waitHealthy } from './harness/process';
import { closeTrackedClients, disconnected, trackedGqlWs } from './harness/ws';

/**
 * SIGTERM on one instance (a rolling deploy, a scale-down) drains that instance only: its own
 * sockets are closed and its in-flight work finishes, while the users of the other instances
 * stay connected. Both instances are real `src/main.ts` processes on one database and Redis.
 */
describe('graceful shutdown of one instance', () => {
  let b: TestApp;
  const procs: AppProcess[] = [];
  const env = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'test',
    DATABASE_URL: dbUrl(b.dbName),
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: b.prefix,
    JWT_SECRET: b.config.jwt.secret,
    PASSWORD_HASH_MEMORY_KIB: '1024',
    PASSWORD_HASH_ITERATIONS: '1',
    MIGRATIONS_RUN: 'false',
    SERVE_CLIENT: 'false',
    LOG_LEVEL: 'info',
    ...extra,
  });
  const start = async (extra: Record<string, string> = {}) => {
    const p = spawnApp(env(extra), await freePort());
    procs.push(p);
    // A cold ts-node start on a busy machine is slow.
    await waitHealthy(p, 180_000);
    return p;
  };

  beforeAll(async () => {
    b = await startTestApp(); // instance B, in this process; A runs src/main.ts beside it
  });
  afterAll(async () => {
    await closeClients();
    await closeTrackedClients();
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await b.close();
  });

  it('closes only its own sockets, finishes an in-flight request, exits 0; the other instance’s users stay connected', async () => {
    const a = await start();
    const reg = await http(a.url)
      .post('/api/auth/register')
      .send({ username: `sd_${b.prefix}`, email: `sd_${b.prefix}@example.test`, password: 'long enough password' })
      .expect(201);
    const token = reg.body.accessToken as string;
    const onA = await connectSocket(asApp(a), token);
    const onB = await connectSocket(b, token);
    const gqlA = trackedGqlWs(a.url, token);
    const gqlB = trackedGqlWs(b, token);
    await Promise.all([gqlA.connected, gqlB.connected]);
    const bDisconnects = collect(onB, 'disconnect');
    const aGone = disconnected(onA);

    // A request in flight on A when SIGTERM arrives: headers sent, body not yet.
    const body = JSON.stringify({ email: 'nobody@example.test', password: 'wrong password' });
    const raw = await rawRequest(a.url, body);

    a.child.kill('SIGTERM');
    await aGone; // A is draining: its sockets were closed...
    expect((await gqlA.closed).code).toBe(1001);
    raw.socket.write(body.slice(10)); // ...and the request still gets its answer.
    expect(await raw.response).toMatch(/^HTTP\/1\.1 401/);
    expect(await a.exited).toBe(0);

    // B's users never noticed.
    expect(onB.connected).toBe(true);
    expect((await emitAck(onB, 'whoami', {})).data.userId).toBe(reg.body.user.id);
    expect((await gqlB.run('{ me { id } }')).data?.me.id).toBe(reg.body.user.id);
    expect(bDisconnects.items).toEqual([]);
  }, 300_000);

  it('exits within SHUTDOWN_TIMEOUT_MS even when a request never finishes', async () => {
    const c = await start({ SHUTDOWN_TIMEOUT_MS: '2000' });
    const raw = await rawRequest(c.url, JSON.stringify({ email: 'x@example.test', password: 'never sent in full' }));
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(1);
    expect(c.output()).toContain('longer than 2000 ms');
    raw.socket.destroy();
  }, 300_000);
});

/** The socket.io helpers only need the base URL. */
const asApp = (p: AppProcess) => ({ url: p.url }) as unknown as TestApp;

/** A POST /api/auth/login whose headers are sent and whose body is held back after 10 bytes. */
async function rawRequest(base: string, body: string): Promise<{ socket: TcpSocket; response: Promise<string> }> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  await new Promise((r) => socket.once('connect', r));
  let data = '';
  const response = new Promise<string>((resolve) => {
    socket.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n\r\n')) resolve(data);
    });
    socket.on('close', () => resolve(data));
  });
  socket.write(
    `POST /api/auth/login HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
  );
  return { socket, response };
}
