import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { io, Socket } from 'socket.io-client';
import { createDatabase, dropDatabase, clearRedisPrefix, testDbPrefix } from './harness/app';
import { closeClients, connectSocket, emitAck, gqlWs, http, nextEvent } from './harness/clients';
import { dbUrl, TEST_REDIS_URL } from './harness/env';
import { cleanEnv, freePort, ROOT } from './harness/process';
import { disconnected } from './harness/ws';
import type { TestApp } from './harness/app';

/**
 * The production start as users run it: the BUILT app (`node dist/main.js`) with
 * WEB_CONCURRENCY=2 — a primary and two worker processes on one port. Checks that both workers
 * serve requests and run with the V8 flags the entry sets, that Socket.IO long-polling reaches its
 * session's worker over many requests (sticky routing) while talking to a websocket client,
 * that graphql-ws works in the workers, that a killed worker is replaced, and that SIGTERM to the
 * primary drains every worker and exits 0.
 */

/** dist/ is rebuilt when any server source is newer than it (the suite must not test stale code). */
function ensureBuilt() {
  const built = join(ROOT, 'dist', 'src', 'main.js');
  let builtAt = 0;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    /* not built */
  }
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
    }, 0);
  if (builtAt > Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'migrations')))) return;
  for (const args of [['nest', 'build'], ['node', 'scripts/postbuild.js']]) {
    const cmd = args[0] === 'nest' ? join(ROOT, 'node_modules', '.bin', 'nest') : process.execPath;
    const r = spawnSync(cmd, args[0] === 'nest' ? args.slice(1) : args.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
  }
}

interface Cluster {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

/** JSON log lines of the cluster's processes (pino). */
function logLines(out: string): Record<string, any>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, any>;
      } catch {
        return {};
      }
    });
}

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, out?: () => string): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}${out ? `:\n${out().slice(-4000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('production start: node dist/main.js with WEB_CONCURRENCY=2', () => {
  const dbName = `${testDbPrefix()}${randomBytes(6).toString('hex')}`;
  const prefix = `t${randomBytes(5).toString('hex')}`;
  let app: Cluster;
  const asApp = () => ({ url: app.url }) as unknown as TestApp;
  const pollers: Socket[] = [];

  beforeAll(async () => {
    ensureBuilt();
    await createDatabase(dbName);
    const port = await freePort();
    let out = '';
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: ROOT,
      env: {
        ...cleanEnv(),
        NODE_ENV: 'test',
        DATABASE_URL: dbUrl(dbName),
        DATABASE_POOL_SIZE: '4',
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789',
        PASSWORD_HASH_MEMORY_KIB: '1024',
        PASSWORD_HASH_ITERATIONS: '1',
        MIGRATIONS_RUN: 'false',
        THROTTLE_REGISTER_PER_MINUTE: '100000',
        SERVE_CLIENT: 'false',
        LOG_LEVEL: 'info',
        PORT: String(port),
        HOST: '127.0.0.1',
        WEB_CONCURRENCY: '2',
        SHUTDOWN_TIMEOUT_MS: '15000',
        NODE_OPTIONS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    app = { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
    // Both workers ready (a cold start of two workers on a busy 2-core machine is slow).
    await until('two ready workers', () => logLines(out).filter((l) => /Worker \d+ \(pid \d+\) ready/.test(l.msg)).length >= 2, 240_000, app.output);
  }, 300_000);

  afterAll(async () => {
    for (const s of pollers) s.close();
    await closeClients();
    if (app && app.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    await dropDatabase(dbName);
    await clearRedisPrefix(prefix);
  });

  const register = async () => {
    const name = `c${randomBytes(4).toString('hex')}`;
    const r = await http(app.url)
      .post('/api/auth/register')
      .send({ username: name, email: `${name}@example.test`, password: 'long enough password' })
      .expect(201);
    return { id: r.body.user.id as string, token: r.body.accessToken as string };
  };

  it('two worker processes answer requests, each started with the V8 flags the entry sets', async () => {
    const primaryPid = app.child.pid;
    for (let i = 0; i < 8; i++) await http(app.url).get('/api/crypto/trading/pairs').expect(200);
    const lines = logLines(app.output());
    const servedBy = new Set(lines.filter((l) => l.req?.url === '/api/crypto/trading/pairs').map((l) => l.pid as number));
    expect(servedBy.size).toBe(2);
    expect(servedBy.has(primaryPid!)).toBe(false);
    // Each worker reports its own process.execArgv when it starts.
    const flagged = lines.filter((l) => /serving connections from the primary; V8\/Node flags: .*--max-semi-space-size=64/.test(l.msg ?? ''));
    expect(new Set(flagged.map((l) => l.pid))).toEqual(servedBy);
  });

  it('a long-polling Socket.IO client stays on its worker over many requests and chats with a websocket client', async () => {
    const alice = await register();
    const bob = await register();
    const room = (await http(app.url).post('/api/chat/rooms').set('authorization', `Bearer ${alice.token}`).send({ name: 'cluster room' }).expect(201)).body;
    await http(app.url).post(`/api/chat/rooms/${room.id}/join`).set('authorization', `Bearer ${bob.token}`).expect((r) => expect([200, 201, 204]).toContain(r.status));

    const poller = io(app.url, { auth: { token: alice.token }, transports: ['polling'], reconnection: false, forceNew: true, timeout: 10_000 });
    pollers.push(poller);
    await new Promise<void>((resolve, reject) => {
      poller.once('connect', () => resolve());
      poller.once('connect_error', reject);
    });
    const ws = await connectSocket(asApp(), bob.token, { transports: ['websocket'] });
    expect((await emitAck(poller, 'join_room', { roomId: room.id })).ok).toBe(true);
    expect((await emitAck(ws, 'join_room', { roomId: room.id })).ok).toBe(true);

    const pollerDisconnects: string[] = [];
    poller.on('disconnect', (reason) => pollerDisconnects.push(reason));
    // Each round: the poller sends (a POST), then receives the websocket client's message (a GET),
    // each on a new connection the primary must route to the poller's worker.
    for (let i = 0; i < 15; i++) {
      const atWs = nextEvent(ws, 'message_received', (p: any) => p.message?.content === `from poller ${i}`, 10_000);
      const sent = await emitAck(poller, 'send_message', { roomId: room.id, content: `from poller ${i}` }, 10_000);
      expect(sent.ok).toBe(true);
      await atWs;
      const atPoller = nextEvent(poller, 'message_received', (p: any) => p.message?.content === `from ws ${i}`, 10_000);
      expect((await emitAck(ws, 'send_message', { roomId: room.id, content: `from ws ${i}` }, 10_000)).ok).toBe(true);
      await atPoller;
    }
    expect(pollerDisconnects).toEqual([]);
    expect(poller.io.engine.transport.name).toBe('polling');
    // The session id names the worker that holds it.
    expect(poller.io.engine.id).toMatch(/^\d+\./);
    poller.close();
    ws.close();
  }, 120_000);

  it('REST keeps its keep-alive connection; a polling request reusing one held by another worker is sent round again (307), never lost', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string, post?: string) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const opts = post === undefined ? { agent } : { agent, method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' } };
        const r = httpRequest(`${app.url}${path}`, opts, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        });
        r.on('error', reject);
        r.end(post);
      });
    try {
      const health = await get('/api/health');
      expect(health.status).toBe(200);
      expect(health.headers.connection).toBe('keep-alive');
      // An Engine.IO session (polling handshake): its id names its worker; the answer closes the connection.
      const hs = await get('/socket.io/?EIO=4&transport=polling');
      expect(hs.headers.connection).toBe('close');
      const sid = JSON.parse(hs.body.slice(1)).sid as string;
      expect(sid).toMatch(/^\d+\./);
      // Keep-alive REST connections land on either worker; a poll sent on one held by the other worker is redirected.
      const seen = new Set<number>();
      for (let i = 0; i < 12 && seen.size < 2; i++) {
        expect((await get('/api/health')).status).toBe(200);
        // A POST (a pong packet) is answered at once; a GET would wait for data.
        const poll = await get(`/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, '3');
        expect([200, 307]).toContain(poll.status); // never 400 "Session ID unknown"
        if (poll.status === 307) expect(poll.headers.location).toBe(`/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`);
        seen.add(poll.status);
      }
      expect(seen).toEqual(new Set([200, 307]));
    } finally {
      agent.destroy();
    }
  });

  it('a graphql-ws subscription in a worker receives a message sent through REST', async () => {
    const alice = await register();
    const room = (await http(app.url).post('/api/chat/rooms').set('authorization', `Bearer ${alice.token}`).send({ name: 'gql cluster room' }).expect(201)).body;
    const payloads: any[] = [];
    gqlWs(asApp(), alice.token).subscribe(
      { query: 'subscription($r: ID!) { messageAdded(roomId: $r) { content senderId } }', variables: { r: room.id } },
      { next: (v) => void payloads.push(v), error: (e) => void payloads.push({ error: e }), complete: () => undefined },
    );
    // The subscription may not be registered yet when the first message is sent: send until one arrives.
    const sent: string[] = [];
    const got = await until(
      'a messageAdded payload',
      async () => {
        const content = `rest ${sent.length}`;
        sent.push(content);
        await http(app.url).post(`/api/chat/rooms/${room.id}/messages`).set('authorization', `Bearer ${alice.token}`).send({ content }).expect(201);
        await new Promise((r) => setTimeout(r, 500));
        return payloads[0];
      },
      30_000,
    );
    expect(got.error).toBeUndefined();
    expect(sent).toContain(got.data.messageAdded.content);
    expect(got.data.messageAdded.senderId).toBe(alice.id);
  }, 60_000);

  it('sign-out everywhere on one worker refuses the next request on the other (each caches the session check)', async () => {
    const u = await register();
    // Requests alternate between the workers (one connection each): both have the session cached.
    for (let i = 0; i < 4; i++) await http(app.url).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(200);
    await http(app.url).post('/api/auth/logout-all').set('authorization', `Bearer ${u.token}`).expect(204);
    for (let i = 0; i < 4; i++) await http(app.url).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(401);
  });

  it('a killed worker is replaced and the cluster keeps serving', async () => {
    const ready = () => logLines(app.output()).filter((l) => /Worker \d+ \(pid \d+\) ready/.test(l.msg ?? ''));
    const before = ready();
    const victim = Number(/pid (\d+)/.exec(before[0].msg)![1]);
    process.kill(victim, 'SIGKILL');
    await until('the crash to be noticed', () => /exited \(SIGKILL\); starting a new one/.test(app.output()), 30_000, app.output);
    const replacement = await until('a replacement worker', () => ready().find((l) => !before.some((b) => b.msg === l.msg)), 240_000, app.output);
    expect(replacement.msg).not.toContain(`pid ${victim}`);
    for (let i = 0; i < 4; i++) await http(app.url).get('/api/health').expect(200);
  }, 300_000);

  it('SIGTERM to the primary drains every worker (their sockets close) and exits 0', async () => {
    const u = await register();
    const sockets = await Promise.all([0, 1, 2, 3].map(() => connectSocket(asApp(), u.token, { transports: ['websocket'] })));
    const gone = sockets.map((s) => disconnected(s));
    // Idle keep-alive HTTP connections (a REST client's pool) must not hold the drain up: the
    // workers never listen, so Node's own idle-connection tracking does not see them.
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
    await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<void>((resolve, reject) =>
            httpRequest(`${app.url}/api/health`, { agent }, (res) => {
              expect(res.headers.connection).toBe('keep-alive');
              res.resume();
              res.on('end', () => resolve());
            })
              .on('error', reject)
              .end(),
          ),
      ),
    );
    app.child.kill('SIGTERM');
    await Promise.all(gone);
    expect(await app.exited).toBe(0);
    agent.destroy();
    expect(app.output()).not.toContain('Graceful shutdown took longer');
    expect(app.output()).toContain('All workers stopped');
    expect(app.output()).not.toContain('did not drain cleanly');
  }, 60_000);
});
