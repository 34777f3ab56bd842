import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

interface EmbeddedLogger {
  log(msg: string): void;
  warn(msg: string): void;
}

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  logger?: EmbeddedLogger;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly lockFile: string,
    readonly holderPid: number,
  ) {
    const who = holderPid === process.pid ? `this process (pid ${holderPid})` : `another process (pid ${holderPid})`;
    super(
      `The embedded Postgres data directory ${dataDir} is already open in ${who}. ` +
        'PGlite allows one process per data directory: stop the other instance, or set DATABASE_URL to a real Postgres. ' +
        `If no such process is running, delete ${lockFile}.`,
    );
    this.name = 'DataDirLockedError';
  }
}

const consoleLogger: EmbeddedLogger = {
  log: (msg) => console.log(msg),
  warn: (msg) => console.warn(msg),
};

const STOP_TIMEOUT_MS = 10_000;

/*
 * PGlite runs in a worker thread, for two reasons:
 * - it executes every query synchronously in WASM, which on the main thread would stall
 *   the app's event loop (sockets, timers) for the duration of each query;
 * - its CommonJS build calls import() internally, which throws
 *   ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG inside Jest's module sandbox; a worker
 *   loads modules with Node's own loader.
 * The source is plain JavaScript so it runs the same under ts-node, Jest and compiled dist,
 * and so coverage instrumentation cannot leak into it.
 *
 * TypeORM runs CREATE EXTENSION "uuid-ossp" on connect whenever an entity has a uuid
 * primary key; PGlite only offers contrib extensions that were loaded at creation.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const load = require('node:module').createRequire(workerData.resolveFrom);
const { PGlite } = load('@electric-sql/pglite');
const { uuid_ossp } = load('@electric-sql/pglite/contrib/uuid_ossp');
const { PGLiteSocketServer } = load('@electric-sql/pglite-socket');

let db;
let server;

async function start() {
  db = await PGlite.create({ dataDir: workerData.dataDir, extensions: { uuid_ossp } });
  // A single session: a second concurrent client would interleave its protocol messages with the first.
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: workerData.port, maxConnections: 1 });
  await server.start();
  const conn = server.getServerConn();
  return Number(conn.slice(conn.lastIndexOf(':') + 1));
}

async function stop() {
  try {
    if (server) await server.stop();
  } finally {
    if (db && !db.closed) await db.close();
  }
}

function describe(err) {
  return { message: err && err.message ? err.message : String(err), code: err && err.code };
}

parentPort.on('message', (msg) => {
  if (msg.type !== 'stop') return;
  stop()
    .catch((err) => parentPort.postMessage({ type: 'failed', error: describe(err) }))
    .finally(() => parentPort.close());
});

start().then(
  (port) => parentPort.postMessage({ type: 'ready', port }),
  async (err) => {
    await stop().catch(() => undefined);
    parentPort.postMessage({ type: 'failed', error: describe(err) });
    parentPort.close();
  },
);
`;

type WorkerMessage = { type: 'ready'; port: number } | { type: 'failed'; error: { message: string; code?: string } };

/**
 * Runs PGlite (Postgres compiled to WASM) on `dataDir` and serves it over the Postgres wire
 * protocol on 127.0.0.1, so `pg` and TypeORM can use it like a server. PGlite is a single
 * session: give clients a pool of exactly one connection; a second concurrent connection
 * is dropped by the server.
 */
export async function startEmbeddedPostgres(opts: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = opts.logger ?? consoleLogger;
  const startedAt = performance.now();
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });

  const releaseLock = await acquireDataDirLock(dataDir, logger);
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (fresh) logger.log(`Embedded Postgres: initialising a new database in ${dataDir} (first start only, takes a few seconds)`);

  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // The library treats only a numeric port as explicit; undefined would mean 5432.
      workerData: { dataDir, port: opts.port ?? 0, resolveFrom: __filename },
    });
  } catch (err) {
    releaseLock();
    throw err;
  }
  const exited = new Promise<number>((done) => worker.once('exit', done));
  let crash: Error | undefined;
  worker.on('error', (err) => (crash ??= err));
  void exited.then(releaseLock);

  let port: number;
  try {
    port = await new Promise<number>((done, fail) => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') done(msg.port);
        if (msg.type === 'failed') fail(startFailure(msg.error, opts.port ?? 0));
      });
      void exited.then((code) => fail(crash ?? new Error(`Embedded Postgres worker exited with code ${code} during start-up`)));
    });
  } catch (err) {
    await worker.terminate();
    await exited;
    throw err;
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const elapsed = Math.round(performance.now() - startedAt);
  logger.log(`Embedded Postgres (PGlite) ready at ${url} in ${elapsed} ms (${fresh ? 'new database' : 'data'} in ${dataDir})`);

  let stopping: Promise<void> | undefined;
  void exited.then((code) => {
    if (!stopping) logger.warn(`Embedded Postgres stopped unexpectedly (worker exit code ${code}${crash ? `: ${crash.message}` : ''})`);
  });

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'failed') logger.warn(`Embedded Postgres: error while closing: ${msg.error.message}`);
      });
      worker.postMessage({ type: 'stop' });
      const timer = new AbortController();
      const timedOut = sleep(STOP_TIMEOUT_MS, true, { signal: timer.signal }).catch(() => false);
      const hung = await Promise.race([exited.then(() => false), timedOut]);
      timer.abort();
      if (hung) {
        logger.warn(`Embedded Postgres did not shut down within ${STOP_TIMEOUT_MS} ms; terminating it`);
        await worker.terminate();
      }
      await exited;
      logger.log('Embedded Postgres stopped');
    })();
    return stopping;
  };
  return { url, stop };
}

function startFailure(error: { message: string; code?: string }, port: number): Error {
  if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
    return new Error(`Embedded Postgres could not listen on 127.0.0.1:${port}: ${error.message}`);
  }
  return new Error(`Embedded Postgres failed to start: ${error.message}`);
}

/** Lock files held by this process; a lock naming our own pid but absent here is left over from a previous process that had the same pid (common in containers). */
const heldLocks = new Set<string>();

async function acquireDataDirLock(dataDir: string, logger: EmbeddedLogger): Promise<() => void> {
  const lockFile = join(dataDir, '.lock');
  if (heldLocks.has(lockFile)) throw new DataDirLockedError(dataDir, lockFile, process.pid);

  const ownContent = `${process.pid}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockFile, ownContent, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }

    const content = readIfExists(lockFile);
    if (content === undefined) continue;
    const holder = Number.parseInt(content, 10);
    if (!Number.isInteger(holder) || holder <= 0) {
      // The holder may be between creating the file and writing its pid.
      if (attempt < 10) {
        await sleep(20);
        continue;
      }
      logger.warn(`Embedded Postgres: removing unreadable lock file ${lockFile}`);
    } else if (holder !== process.pid && isAlive(holder)) {
      throw new DataDirLockedError(dataDir, lockFile, holder);
    } else {
      logger.warn(`Embedded Postgres: removing stale lock file ${lockFile} (pid ${holder} is not running)`);
    }
    rmSync(lockFile, { force: true });
  }

  heldLocks.add(lockFile);
  const release = (): void => {
    if (!heldLocks.delete(lockFile)) return;
    process.removeListener('exit', release);
    if (readIfExists(lockFile) === ownContent) rmSync(lockFile, { force: true });
  };
  // A process.exit() without stop() would otherwise leave the lock behind (harmless, as it is then stale, but noisy).
  process.on('exit', release);
  return release;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}
