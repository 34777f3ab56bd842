import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { EmbeddedSetupError, ensureLocalRedis } from './local-redis';

jest.setTimeout(30_000);

const silent = { log: () => undefined, warn: () => undefined };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** PING through a client that neither retries nor queues, closed afterwards. */
async function pingOnce(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  let error: Error | undefined;
  client.on('error', (err) => (error ??= err));
  try {
    await client.connect();
    return await client.ping();
  } catch (err) {
    throw error ?? err;
  } finally {
    if (client.status !== 'end') client.disconnect();
  }
}

describe('ensureLocalRedis', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'local-redis-'));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('uses the Redis already answering on the default URL', async () => {
    const redis = await ensureLocalRedis({ dataDir: join(root, 'default'), logger: silent });
    expect(redis).toMatchObject({ url: 'redis://127.0.0.1:6379', startedByUs: false });
    await redis.stop();
    expect(await pingOnce(redis.url)).toBe('PONG');
    expect(existsSync(join(root, 'default'))).toBe(false);
  });

  it('starts redis-server on a free local port and stops it again', async () => {
    const port = await freePort();
    const dataDir = join(root, 'spawned');
    const url = `redis://127.0.0.1:${port}`;
    const logs: string[] = [];
    const redis = await ensureLocalRedis({ url, dataDir, logger: { log: (m) => logs.push(m), warn: (m) => logs.push(`WARN ${m}`) } });
    try {
      expect(redis).toMatchObject({ url, startedByUs: true });
      expect(existsSync(dataDir)).toBe(true);
      expect(await pingOnce(url)).toBe('PONG');
      expect(logs.join('\n')).toMatch(new RegExp(`started \\S*redis-server \\(pid \\d+\\) in \\d+ ms`));
    } finally {
      await redis.stop();
    }
    await expect(pingOnce(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(logs.some((l) => l.startsWith('WARN'))).toBe(false);
    await redis.stop();
  });

  it('explains how to get Redis when nothing answers and redis-server is not on the PATH', async () => {
    const port = await freePort();
    const emptyBin = mkdtempSync(join(root, 'empty-bin-'));
    const attempt = ensureLocalRedis({ url: `redis://127.0.0.1:${port}`, dataDir: join(root, 'nope'), pathEnv: emptyBin, logger: silent });
    await expect(attempt).rejects.toBeInstanceOf(EmbeddedSetupError);
    await expect(attempt).rejects.toThrow(
      `No Redis answers at redis://127.0.0.1:${port} and no redis-server binary is on the PATH. ` +
        'Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a reachable Redis.',
    );
  });

  function fakeRedisServer(script: string): string {
    const bin = mkdtempSync(join(root, 'fake-bin-'));
    writeFileSync(join(bin, 'redis-server'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, 'redis-server'), 0o755);
    return bin;
  }

  it('reports the output of a redis-server that exits during start-up', async () => {
    const port = await freePort();
    const warnings: string[] = [];
    const attempt = ensureLocalRedis({
      url: `redis://127.0.0.1:${port}`,
      dataDir: join(root, 'crashing'),
      pathEnv: fakeRedisServer('echo "FATAL: cannot start" >&2; exit 3'),
      logger: { log: () => undefined, warn: (m) => warnings.push(m) },
    });
    await expect(attempt).rejects.toBeInstanceOf(EmbeddedSetupError);
    await expect(attempt).rejects.toThrow(/exited with code 3:\nFATAL: cannot start/);
    expect(warnings).toEqual([]);
  });

  it('gives up on a redis-server that never answers, and kills it', async () => {
    const port = await freePort();
    const pidFile = join(root, 'hung.pid');
    const attempt = ensureLocalRedis({
      url: `redis://127.0.0.1:${port}`,
      dataDir: join(root, 'hung'),
      pathEnv: fakeRedisServer(`echo $$ > ${pidFile}; exec sleep 30`),
      startTimeoutMs: 300,
      logger: silent,
    });
    await expect(attempt).rejects.toThrow(/did not answer PING at redis:\/\/127\.0\.0\.1:\d+ within 300 ms/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('does not try to start Redis for a remote URL', async () => {
    const port = await freePort();
    // A non-loopback address of this machine would also work; what matters is that the host is not treated as local.
    const attempt = ensureLocalRedis({ url: `redis://127.0.0.2:${port}`, dataDir: join(root, 'remote'), logger: silent });
    await expect(attempt).rejects.toThrow(EmbeddedSetupError);
    await expect(attempt).rejects.toThrow(/not usable .*set REDIS_URL/);
    expect(existsSync(join(root, 'remote'))).toBe(false);
  });
});
