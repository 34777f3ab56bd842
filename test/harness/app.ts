import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import Redis from 'ioredis';
import { App, createApp } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/core/config/config';
import { TEST_PG_ADMIN_URL, TEST_REDIS_URL, dbUrl, templateDb, testDbPrefix } from './env';
export { testDbPrefix };

export interface TestApp {
  app: App;
  config: AppConfig;
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  dbName: string;
  prefix: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment (THROTTLE_*, fees...) on top of the test defaults. */
  env?: Record<string, string>;
  /** Start a second instance on the same database and Redis namespace as this one. */
  shareWith?: TestApp;
  /** An empty database (not the migrated template); the app migrates it at start. */
  emptyDatabase?: { name: string; prefix: string; owner: boolean };
}

export const ADMIN = { email: 'admin@softchat.test', password: 'admin-password-123' };

export async function createDatabase(name: string, fromTemplate = true) {
  const admin = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"${fromTemplate ? ` TEMPLATE "${templateDb()}"` : ''}`);
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(name: string) {
  const admin = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function clearRedisPrefix(prefix: string) {
  const r = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/**
 * Boots the real application (the same wiring as production) on a fresh database cloned from
 * the migrated template and a clean Redis namespace, listening on a free loopback port.
 * One per test file (in beforeAll), not per test.
 */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const shared = opts.shareWith;
  const empty = opts.emptyDatabase;
  const dbName = empty?.name ?? shared?.dbName ?? `${testDbPrefix()}${randomBytes(6).toString('hex')}`;
  const prefix = empty?.prefix ?? shared?.prefix ?? `t${randomBytes(5).toString('hex')}`;
  if (!shared && !empty) await createDatabase(dbName);
  const owner = empty ? empty.owner : !shared;

  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: dbUrl(dbName),
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    // Cheap hashing keeps the suite fast; production defaults are OWASP's.
    PASSWORD_HASH_MEMORY_KIB: '1024',
    PASSWORD_HASH_ITERATIONS: '1',
    MIGRATIONS_RUN: empty ? 'true' : 'false',
    THROTTLE_REGISTER_PER_MINUTE: '100000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    SERVE_CLIENT: 'false',
    PORT: '0',
    HOST: '127.0.0.1',
    ...opts.env,
  });

  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  let closed = false;
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    port,
    dbName,
    prefix,
    async close() {
      if (closed) return;
      closed = true;
      // Leftover client connections (keep-alive, websockets) would hold Apollo's drain for its 10 s grace.
      (app.getHttpServer() as import('node:http').Server).closeAllConnections();
      await app.close();
      if (owner) {
        await dropDatabase(dbName);
        await clearRedisPrefix(prefix);
      }
    },
  };
}
