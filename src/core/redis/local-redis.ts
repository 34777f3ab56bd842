import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';

interface EmbeddedLogger {
  log(msg: string): void;
  warn(msg: string): void;
}

export interface LocalRedis {
  url: string;
  startedByUs: boolean;
  stop(): Promise<void>;
}

export interface EnsureLocalRedisOptions {
  /** Default redis://127.0.0.1:6379. */
  url?: string;
  /** Working directory of a redis-server we spawn (nothing is persisted: saving is off). */
  dataDir: string;
  logger?: EmbeddedLogger;
  /** PATH used to look for redis-server; defaults to process.env.PATH. */
  pathEnv?: string;
  /** How long a spawned redis-server may take to answer PING. Default 5000 ms. */
  startTimeoutMs?: number;
}

/** Local infrastructure cannot be provided automatically; the message says what the developer has to do. */
export class EmbeddedSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedSetupError';
  }
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const PROBE_TIMEOUT_MS = 500;
const STOP_TIMEOUT_MS = 5000;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

const consoleLogger: EmbeddedLogger = {
  log: (msg) => console.log(msg),
  warn: (msg) => console.warn(msg),
};

/**
 * Uses the Redis at `url` if one answers; otherwise, for a local URL, starts a throwaway
 * redis-server child on that port. Anything else is an EmbeddedSetupError with instructions.
 */
export async function ensureLocalRedis(opts: EnsureLocalRedisOptions): Promise<LocalRedis> {
  const logger = opts.logger ?? consoleLogger;
  const url = opts.url ?? DEFAULT_URL;
  const shown = redact(url);
  const target = parseRedisUrl(url);

  const probe = await ping(url);
  if (probe.ok) {
    logger.log(`Redis: using ${shown}`);
    return { url, startedByUs: false, stop: async () => undefined };
  }
  if (!probe.refused || !target.local || target.tls) {
    throw new EmbeddedSetupError(
      `Redis at ${shown} is not usable (${probe.error}). Start Redis there or set REDIS_URL to a reachable Redis.`,
    );
  }

  const binary = findExecutable('redis-server', opts.pathEnv ?? process.env.PATH ?? '');
  if (!binary) {
    throw new EmbeddedSetupError(
      `No Redis answers at ${shown} and no redis-server binary is on the PATH. ` +
        'Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) ' +
        'or set REDIS_URL to a reachable Redis.',
    );
  }
  return spawnRedis({
    binary,
    url,
    shown,
    target,
    dataDir: resolve(opts.dataDir),
    timeoutMs: opts.startTimeoutMs ?? 5000,
    logger,
  });
}

interface RedisTarget {
  host: string;
  port: number;
  password?: string;
  local: boolean;
  tls: boolean;
}

function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EmbeddedSetupError(`REDIS_URL "${redact(url)}" is not a valid URL (expected redis://host:port).`);
  }
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    local: LOCAL_HOSTS.has(parsed.hostname),
    tls: parsed.protocol === 'rediss:',
  };
}

type PingResult = { ok: true } | { ok: false; refused: boolean; error: string };

async function ping(url: string): Promise<PingResult> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    commandTimeout: PROBE_TIMEOUT_MS,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
  });
  let connectionError: NodeJS.ErrnoException | undefined;
  client.on('error', (err: NodeJS.ErrnoException) => {
    connectionError ??= err;
  });
  try {
    await client.connect();
    const reply = await client.ping();
    return reply === 'PONG' ? { ok: true } : { ok: false, refused: false, error: `unexpected PING reply "${reply}"` };
  } catch (err) {
    // ioredis rejects with a generic "Connection is closed." and reports the cause through 'error'.
    const cause: NodeJS.ErrnoException = connectionError ?? err;
    return { ok: false, refused: cause.code === 'ECONNREFUSED', error: cause.message };
  } finally {
    // On a connection that already failed, disconnect() would arm ioredis's 2 s "destroy the stream" timer for nothing.
    if (client.status !== 'end') client.disconnect();
  }
}

interface SpawnInput {
  binary: string;
  url: string;
  shown: string;
  target: RedisTarget;
  dataDir: string;
  timeoutMs: number;
  logger: EmbeddedLogger;
}

async function spawnRedis(input: SpawnInput): Promise<LocalRedis> {
  const { binary, url, shown, target, dataDir, timeoutMs, logger } = input;
  const startedAt = performance.now();
  mkdirSync(dataDir, { recursive: true });

  const args = [
    '--port', String(target.port),
    '--bind', target.host === 'localhost' ? '127.0.0.1' : target.host.replace(/^\[|\]$/g, ''),
    '--dir', dataDir,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
  ];
  if (target.password) args.push('--requirepass', target.password);

  const child = spawn(binary, args, { cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));

  let state: 'starting' | 'running' | 'stopping' = 'starting';
  const exited = new Promise<string>((done) => {
    child.on('error', (err) => done(`could not be started: ${err.message}`));
    child.once('exit', (code, signal) => done(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  });
  // If the app dies without calling stop(), do not leave an orphan holding the port.
  const killOnExit = (): void => {
    if (isRunning(child)) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  void exited.then((how) => {
    process.removeListener('exit', killOnExit);
    if (state === 'running') logger.warn(`Redis: redis-server on port ${target.port} ${how}\n${output.text()}`);
  });

  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    const result = await Promise.race([ping(url), exited.then((how) => ({ exited: how }))]);
    if ('exited' in result) {
      throw new EmbeddedSetupError(
        `No Redis answered at ${shown}, and the redis-server started for it (${binary}) ${result.exited}:\n${output.text()}`,
      );
    }
    if (result.ok) break;
    lastError = result.error;
    if (Date.now() >= deadline) {
      await terminate(child, exited);
      throw new EmbeddedSetupError(
        `redis-server (${binary}) did not answer PING at ${shown} within ${timeoutMs} ms (${lastError}):\n${output.text()}`,
      );
    }
    await sleep(100);
  }

  state = 'running';
  const elapsed = Math.round(performance.now() - startedAt);
  logger.log(`Redis: nothing answered at ${shown}; started ${binary} (pid ${child.pid}) in ${elapsed} ms, data in ${dataDir}`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      state = 'stopping';
      await terminate(child, exited);
      logger.log(`Redis: stopped redis-server (pid ${child.pid})`);
    })();
    return stopping;
  };
  return { url, startedByUs: true, stop };
}

/** SIGTERM makes redis-server shut down cleanly (no save, as saving is off); SIGKILL if it hangs. */
async function terminate(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (!isRunning(child)) return;
  child.kill('SIGTERM');
  const timer = new AbortController();
  const timedOut = sleep(STOP_TIMEOUT_MS, true, { signal: timer.signal }).catch(() => false);
  const hung = await Promise.race([exited.then(() => false), timedOut]);
  timer.abort();
  if (hung) {
    child.kill('SIGKILL');
    await exited;
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function findExecutable(name: string, pathEnv: string): string | undefined {
  const extensions = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';') : [''];
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const candidate = join(dir, name + ext);
      try {
        accessSync(candidate, constants.X_OK);
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Keeps the last few KB of the child's output for error messages. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = 4096) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks).toString('utf8');
    return all.length > this.limit ? all.slice(-this.limit) : all;
  }
}
