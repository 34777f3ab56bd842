import cluster, { Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { createServer, Server as NetServer, Socket } from 'node:net';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AppConfig } from './core/config/config';

/**
 * The process model of the production start (`node dist/main.js`, `npm run start:prod`).
 *
 * - The V8 flags the benchmarks need (RUNTIME_FLAGS, default `--max-semi-space-size=64`) are set
 *   by the entry: the process serving requests is a cluster worker forked with them in its
 *   `execArgv`, so nobody has to remember NODE_OPTIONS. A flag the user already gave (command
 *   line or NODE_OPTIONS) wins; with every flag present and one worker, no extra process is made.
 * - WEB_CONCURRENCY workers, each a whole instance (HTTP, Socket.IO, graphql-ws, BullMQ workers):
 *   every effect that crosses instances already goes through Redis and Postgres.
 * - Socket.IO long-polling sends several HTTP requests per session, and only the worker that
 *   holds the session can answer them ("sticky sessions"). The primary accepts every connection,
 *   reads its request line, and hands the connection itself (the file descriptor) to a worker:
 *   the worker named in the Engine.IO session id (this module makes session ids start with the
 *   worker's id), otherwise the next worker in turn. Polling answers close their connection, and
 *   a polling request that arrives on a reused connection held by another worker is sent round
 *   again with a 307 (see serveHandedConnections); REST keeps its keep-alive connections.
 *
 * Why not @socket.io/sticky (same idea): it sends every request that has a body
 * (every REST POST, e.g. a transfer) and its response through the primary over IPC as JSON, and
 * keeps a session→worker map fed by IPC messages that can arrive after the client's next request.
 * Handing over the descriptor with the bytes already read, and naming the worker in the session
 * id, keeps the primary out of the data path and leaves no such race.
 */

export interface ProcessPlan {
  /** Worker processes to run (1 with the embedded Postgres: PGlite is one process' database). */
  workers: number;
  /** Whether this process forks workers (false: it serves requests itself). */
  fork: boolean;
  /** The primary routes connections by Socket.IO session (see above). */
  sticky: boolean;
  /** Flags the workers get on top of this process' own execArgv. */
  addedFlags: string[];
  /** The workers' whole execArgv. */
  execArgv: string[];
  /** Why the number of workers differs from WEB_CONCURRENCY, if it does. */
  note?: string;
}

const flagName = (f: string) => f.split('=')[0].replace(/_/g, '-');

/** Pure: what to start, from the config and how this process was started. */
export function planProcesses(
  config: Pick<AppConfig, 'cluster'> & { database: { url: string | null } },
  execArgv: string[],
  nodeOptions: string | undefined,
  runningTypeScript: boolean,
): ProcessPlan {
  let workers = config.cluster.workers;
  let note: string | undefined;
  if (!config.database.url && workers > 1) {
    note = `WEB_CONCURRENCY=${workers} ignored: the embedded Postgres (no DATABASE_URL) serves one process`;
    workers = 1;
  }
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName));
  const addedFlags = config.cluster.runtimeFlags.filter((f) => !given.has(flagName(f)));
  const fork = workers > 1 || addedFlags.length > 0;
  const loader =
    runningTypeScript && !execArgv.some((a) => a.includes('ts-node')) ? ['-r', 'ts-node/register/transpile-only'] : [];
  return {
    workers,
    fork,
    sticky: fork && workers > 1 && config.cluster.sticky,
    addedFlags,
    execArgv: [...loader, ...execArgv, ...addedFlags],
    note,
  };
}

// ------------------------------------------------------------------------------------ routing
/** IPC message types between the primary and its workers. */
const MSG_CONNECTION = 'softchat:connection';
const MSG_READY = 'softchat:ready';
const MSG_DRAINING = 'softchat:draining';

/** An Engine.IO session id naming its worker: `<worker id>.<120 random bits>`. */
export function sessionIdFor(workerId: number): string {
  return `${workerId}.${randomBytes(15).toString('base64url')}`;
}

/** The worker named by the `sid` of a request line (`GET /socket.io/?EIO=4&transport=polling&sid=2.xxxx HTTP/1.1`). */
export function workerOfRequestLine(line: string): number | null {
  const m = /[?&]sid=(\d{1,6})\./.exec(line);
  return m ? Number(m[1]) : null;
}

/** A request line is at most this long before the primary gives up on finding its end. */
const MAX_REQUEST_LINE = 16 * 1024;
/** A connection that sends no request line in this time is closed by the primary. */
const FIRST_LINE_TIMEOUT_MS = 60_000;

function reply503(socket: Socket) {
  socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n');
}

/**
 * The primary's listener: reads each connection's first line and hands the connection (with the
 * bytes read so far) to a worker. Reading stops at once, so nothing after those bytes is lost in
 * the primary: the rest stays in the kernel until the worker reads it.
 */
export function startStickyRouter(opts: {
  port: number;
  host: string;
  /** Workers able to take connections, in a stable order. */
  ready: () => Worker[];
  onError: (e: Error) => void;
}): Promise<NetServer> {
  let turn = 0;
  const pending = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    pending.add(socket);
    const chunks: Buffer[] = [];
    let length = 0;
    socket.setTimeout(FIRST_LINE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => pending.delete(socket));
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      const eol = head.indexOf('\r\n');
      if (eol < 0 && length < MAX_REQUEST_LINE) return;
      socket.off('data', onData);
      // Stop reading here (not just pausing the stream, which keeps filling its buffer): what the
      // client sends next stays in the kernel and is read by the worker from the same descriptor.
      // Node has no public call for this; net.Socket's own pause() uses the same readStop().
      const handle = (socket as unknown as { _handle?: { readStop?: () => number } })._handle;
      if (handle?.readStop) handle.readStop();
      else socket.pause();
      socket.setTimeout(0);

      const workers = opts.ready();
      if (!workers.length) return reply503(socket);
      const named = workerOfRequestLine(head.subarray(0, eol < 0 ? head.length : eol).toString('latin1'));
      const worker = (named !== null && workers.find((w) => w.id === named)) || workers[turn++ % workers.length];
      pending.delete(socket);
      worker.send({ type: MSG_CONNECTION, head: head.toString('base64') }, socket, { keepOpen: false }, (err) => {
        if (err) socket.destroy();
      });
    };
    socket.on('data', onData);
  });
  server.on('error', opts.onError);
  const close = server.close.bind(server);
  // Closing also drops connections still waiting for their first line.
  server.close = ((cb?: (err?: Error) => void) => {
    close(cb);
    for (const s of pending) s.destroy();
    return server;
  }) as typeof server.close;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Worker side of the sticky routing: takes the connections the primary hands over, closes
 * polling connections after each answer (307 for another worker's session), gives Engine.IO session ids naming this worker, and reports when every
 * handed-over connection has closed (for the drain).
 */
export function serveHandedConnections(http: HttpServer, engine: { generateId: (req: never) => unknown }): { closed: () => Promise<void> } {
  const workerId = cluster.worker!.id;
  engine.generateId = () => sessionIdFor(workerId);
  // Keep-alive stays on for REST (and for autocannon-like clients that reuse connections); only
  // Socket.IO polling answers close their connection, so a polling connection is never reused
  // for another session. A REST connection that a browser reuses for polling may have been handed
  // to another worker than the session's: that request gets a 307 to the same URL on a new
  // connection (XHR follows it transparently; the primary then routes it by its sid). Wrapping the
  // listeners (as engine.io itself does when it attaches) keeps such a request from reaching this
  // worker's engine, which would answer "Session ID unknown".
  // The server never listens in a worker, so Node does not track these connections and
  // `closeIdleConnections()` cannot end idle keep-alive ones at shutdown: requests in flight are
  // counted per connection here, and the drain ends each connection once it is idle.
  const inFlight = new Map<Socket, number>();
  let draining = false;
  const listeners = http.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const conn = req.socket as Socket;
    inFlight.set(conn, (inFlight.get(conn) ?? 0) + 1);
    res.once('close', () => {
      const n = (inFlight.get(conn) ?? 1) - 1;
      if (n > 0) return void inFlight.set(conn, n);
      inFlight.delete(conn);
      if (draining) conn.end();
    });
    if (draining) res.setHeader('Connection', 'close');
    const url = req.url ?? '';
    if (url.startsWith('/socket.io/')) {
      res.setHeader('Connection', 'close');
      const named = workerOfRequestLine(url);
      if (named !== null && named !== workerId) {
        res.writeHead(307, { Location: url, 'Content-Length': '0', Connection: 'close' });
        res.end();
        return;
      }
    }
    for (const l of listeners) l.call(http, req, res);
  });
  const open = new Set<Socket>();
  let whenEmpty: (() => void) | null = null;
  process.on('message', (msg: { type?: string; head?: string }, socket?: Socket) => {
    if (msg?.type !== MSG_CONNECTION) return;
    if (!socket) return; // closed by the client while it was being handed over
    if (draining) return void socket.destroy();
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      if (!open.size && whenEmpty) whenEmpty();
    });
    http.emit('connection', socket);
    socket.unshift(Buffer.from(msg.head ?? '', 'base64'));
  });
  return {
    closed: () => {
      draining = true;
      // Idle keep-alive connections end now; busy ones when their last response is sent. (Socket.IO
      // and graphql-ws connections were closed by the drain already.)
      for (const s of open) if (!inFlight.has(s)) s.end();
      return open.size ? new Promise<void>((r) => (whenEmpty = r)) : Promise.resolve();
    },
  };
}

/** Worker → primary: ready to take connections / draining (take no more). */
export function tellPrimary(what: 'ready' | 'draining') {
  if (cluster.isWorker && process.connected) process.send!({ type: what === 'ready' ? MSG_READY : MSG_DRAINING }, undefined, undefined, () => undefined);
}

// ------------------------------------------------------------------------------------ primary
export interface PrimaryLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** Restart delay after a crash: doubles per quick crash, from 500 ms to 30 s; reset after 30 s of uptime. */
export function restartDelayMs(quickCrashes: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, quickCrashes - 1));
}
const HEALTHY_UPTIME_MS = 30_000;

/**
 * Runs the primary: forks the workers, routes connections (sticky mode) or lets them share the
 * port (Node cluster), restarts a crashed worker with backoff, and on SIGTERM/SIGINT stops
 * accepting, has every worker drain (src/core/shutdown.ts), and exits when all have: 0 when every
 * worker exited 0.
 */
export async function runPrimary(
  config: AppConfig,
  plan: ProcessPlan,
  log: PrimaryLogger,
  opts: { workerEnv?: Record<string, string>; cleanups?: (() => Promise<void>)[] } = {},
): Promise<void> {
  // One worker: it accepts on the shared port itself. Several without sticky routing: the primary
  // accepts and deals connections round-robin (Node's default on Linux).
  cluster.schedulingPolicy = plan.workers === 1 ? cluster.SCHED_NONE : cluster.SCHED_RR;
  // An inspector asked for on a random port (`--inspect=host:0`, as profiling and the soak benchmark
  // do) gives every worker a random port too: Node's default is the primary's port + 1, 2…, which
  // may be taken by then, and the worker would start without its inspector.
  const randomInspector = plan.execArgv.some((a) => /^--inspect(-brk)?=(.*:)?0$/.test(a));
  cluster.setupPrimary({ execArgv: plan.execArgv, ...(randomInspector ? { inspectPort: 0 } : {}) });
  log.info(
    `Primary pid ${process.pid}: ${plan.workers} worker(s)${plan.sticky ? ', Socket.IO sessions routed to their worker' : ''}` +
      `, worker flags: ${plan.execArgv.join(' ') || '(none)'}`,
  );
  if (plan.note) log.warn(plan.note);

  const ready = new Map<number, Worker>();
  const slots = new Map<number, { quickCrashes: number }>();
  const exitCodes: (number | null)[] = [];
  let closing = false;
  let router: NetServer | null = null;

  const fork = (slot: number) => {
    const w = cluster.fork({ ...opts.workerEnv });
    const startedAt = Date.now();
    w.on('message', (m: { type?: string }) => {
      if (m?.type === MSG_READY) {
        ready.set(w.id, w);
        log.info(`Worker ${w.id} (pid ${w.process.pid}) ready`);
      } else if (m?.type === MSG_DRAINING) ready.delete(w.id);
    });
    w.on('exit', (code, signal) => {
      ready.delete(w.id);
      if (closing) {
        exitCodes.push(code);
        log.info(`Worker ${w.id} (pid ${w.process.pid}) exited (${signal ?? code})`);
        return;
      }
      const s = slots.get(slot)!;
      s.quickCrashes = Date.now() - startedAt >= HEALTHY_UPTIME_MS ? 1 : s.quickCrashes + 1;
      const delay = restartDelayMs(s.quickCrashes);
      log.error(`Worker ${w.id} (pid ${w.process.pid}) exited (${signal ?? `code ${code}`}); starting a new one in ${delay} ms`);
      setTimeout(() => {
        if (!closing) fork(slot);
      }, delay).unref();
    });
  };

  const orderedReady = () => [...ready.values()];
  if (plan.sticky) {
    router = await startStickyRouter({
      port: config.port,
      host: config.host,
      ready: orderedReady,
      onError: (e) => log.error(`listener: ${e.message}`),
    });
    log.info(`Softchat Realtime listening on http://${config.host}:${config.port} (primary routes connections to the workers)`);
  }
  for (let slot = 0; slot < plan.workers; slot++) {
    slots.set(slot, { quickCrashes: 0 });
    fork(slot);
  }

  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info(`${signal} received: every worker drains (at most ${config.shutdownTimeoutMs} ms)`);
    router?.close();
    const force = setTimeout(() => {
      log.error(`Workers took longer than ${config.shutdownTimeoutMs} ms to drain (SHUTDOWN_TIMEOUT_MS); killing them`);
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2_000);
    force.unref();
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    // Each worker drains on SIGTERM (a worker that never started just exits).
    for (const w of workers) w.process.kill('SIGTERM');
    void Promise.all(workers.map((w) => (w.isDead() ? null : new Promise((r) => w.once('exit', r))))).then(async () => {
      for (const c of opts.cleanups ?? []) await c().catch(() => undefined);
      const ok = exitCodes.every((c) => c === 0);
      log.info(`All workers stopped${ok ? '' : ' (some did not drain cleanly)'}`);
      process.exit(ok ? 0 : 1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
