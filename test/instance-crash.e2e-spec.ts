import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { startTestApp, TestApp } from './harness/app';
import { dbUrl, TEST_REDIS_URL } from './harness/env';
import { closeClients, connectSocket, emitAck, http, nextEvent, registerUser, TestUser } from './harness/clients';

// Fast heartbeats so the test does not wait for the production defaults (3 s / 10 s).
// The in-process app gets them through its configuration, the child process through its environment.
process.env.PRESENCE_HEARTBEAT_MS = '300';
process.env.PRESENCE_TTL_MS = '1500';

/**
 * A second instance in its own process, on the same database and Redis namespace, killed with
 * SIGKILL: nothing on it gets to clean up. The surviving instance must still take its users
 * offline (heartbeat expiry) and stop their typing (Redis TTL + sweeper).
 */
describe('an instance that dies', () => {
  let a: TestApp;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    a = await startTestApp({ env: { PRESENCE_HEARTBEAT_MS: process.env.PRESENCE_HEARTBEAT_MS!, PRESENCE_TTL_MS: process.env.PRESENCE_TTL_MS! } });
  });
  afterAll(async () => {
    await closeClients();
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await a.close();
  });

  /** Boots the real app in a child process (ts-node), resolves with its base URL. */
  async function startChild(): Promise<{ url: string }> {
    const script = `
      require('reflect-metadata');
      const { createApp } = require('./src/bootstrap');
      const { loadConfig } = require('./src/core/config/config');
      (async () => {
        const app = await createApp(loadConfig(process.env));
        await app.listen(0, '127.0.0.1');
        process.stdout.write('LISTENING ' + app.getHttpServer().address().port + '\\n');
      })().catch((e) => { console.error(e); process.exit(1); });`;
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: resolve(__dirname, '..'),
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: dbUrl(a.dbName),
        DATABASE_POOL_SIZE: '4',
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: a.prefix,
        JWT_SECRET: a.config.jwt.secret,
        MIGRATIONS_RUN: 'false',
        LOG_LEVEL: 'error',
        SERVE_CLIENT: 'false',
        ADMIN_EMAIL: '',
        ADMIN_PASSWORD: '',
        PRESENCE_HEARTBEAT_MS: process.env.PRESENCE_HEARTBEAT_MS,
        PRESENCE_TTL_MS: process.env.PRESENCE_TTL_MS,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error('child instance did not start in 30 s')), 30_000);
      child!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /LISTENING (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          ok(Number(m[1]));
        }
      });
      child!.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`child instance exited with ${code}`));
      });
    });
    return { url: `http://127.0.0.1:${port}` };
  }

  it('its users go offline and its typists stop typing, announced by the surviving instance', async () => {
    const user = await registerUser(a);
    const mate = await registerUser(a);
    const room = await http(a)
      .post('/api/chat/rooms')
      .set('authorization', `Bearer ${mate.token}`)
      .send({ name: 'doomed', isPrivate: true, memberIds: [user.id] })
      .expect(201);
    const roomId = room.body.id as string;
    const mateSocket = await connectSocket(a, mate.token);
    expect((await emitAck(mateSocket, 'join_room', { roomId })).ok).toBe(true);

    const other = (await startChild()) as TestApp;
    const online = nextEvent(mateSocket, 'user_online', (p: { userId: string }) => p.userId === user.id, 10_000);
    const doomed = await connectSocket(other, user.token);
    await online;
    expect((await emitAck(doomed, 'join_room', { roomId })).ok).toBe(true);
    const typing = nextEvent(mateSocket, 'typing_started');
    expect((await emitAck(doomed, 'start_typing', { roomId })).ok).toBe(true);
    expect(await typing).toEqual({ roomId, userId: user.id });

    const offline = nextEvent<{ userId: string; lastSeenAt: string }>(mateSocket, 'user_offline', (p) => p.userId === user.id, 10_000);
    const stopped = nextEvent(mateSocket, 'typing_stopped', (p: { userId: string }) => p.userId === user.id, 10_000);
    const killedAt = Date.now();
    child!.kill('SIGKILL');
    await once(child!, 'exit');

    const off = await offline;
    expect(off).toEqual({ userId: user.id, lastSeenAt: expect.any(String) });
    const presence = await http(a).get(`/api/users/${user.id}/presence`).set('authorization', `Bearer ${mate.token}`).expect(200);
    expect(presence.body).toEqual({ userId: user.id, status: 'offline', lastSeenAt: off.lastSeenAt });

    expect(await stopped).toEqual({ roomId, userId: user.id });
    // Typing ends 5 s after the last start (not at the crash), by the survivor's sweeper.
    expect(Date.now() - killedAt).toBeLessThan(8000);

    const users = await http(a).get(`/api/chat/rooms/${roomId}/users`).set('authorization', `Bearer ${mate.token}`).expect(200);
    expect(users.body.find((u: { userId: string }) => u.userId === user.id)).toMatchObject({ online: false, typing: false });

    // The user comes back on the surviving instance and is online again.
    const back = nextEvent(mateSocket, 'user_online', (p: { userId: string }) => p.userId === user.id);
    await connectSocket(a, (user as TestUser).token);
    expect(await back).toEqual({ userId: user.id, status: 'online' });
  }, 60_000);
});
