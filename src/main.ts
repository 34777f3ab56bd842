import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { createApp } from './bootstrap';
import { drainInstance } from './core/shutdown';
import { loadConfig } from './core/config/config';
import { ConfigError } from './core/config/env-reader';
import { startEmbeddedPostgres } from './core/database/embedded-postgres';
import { ensureLocalRedis, EmbeddedSetupError } from './core/redis/local-redis';

/**
 * Production and development entry point. With no DATABASE_URL an embedded Postgres (PGlite)
 * runs under DATA_DIR; with no REDIS_URL the local Redis is used, started from the PATH if
 * nothing answers. Production requires real URLs (checked by the config).
 */
async function main() {
  const log = new Logger('Boot');
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }

  const cleanups: (() => Promise<void>)[] = [];
  const logger = { log: (m: string) => log.log(m), warn: (m: string) => log.warn(m) };
  try {
    if (!config.database.url) {
      const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'pg'), logger });
      cleanups.unshift(() => pg.stop());
      // PGlite is a single session: one pooled connection, transactions serialise.
      config.database.url = pg.url;
      config.database.poolSize = 1;
      log.warn(`No DATABASE_URL: using the embedded Postgres under ${join(config.dataDir, 'pg')} (development only)`);
    }
    if (!config.redis.url) {
      const redis = await ensureLocalRedis({ dataDir: join(config.dataDir, 'redis'), logger });
      cleanups.unshift(() => redis.stop());
      config.redis.url = redis.url;
    }
  } catch (e) {
    if (e instanceof EmbeddedSetupError) {
      process.stderr.write(`${e.message}\n`);
      for (const c of cleanups) await c().catch(() => undefined);
      process.exit(1);
    }
    throw e;
  }

  const app = await createApp(config);
  await app.listen(config.port, config.host);
  log.log(`Softchat Realtime listening on http://${config.host}:${config.port} (REST /api, GraphQL /graphql, Socket.IO /socket.io)`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    const limit = config.shutdownTimeoutMs;
    log.log(`${signal} received: draining this instance (at most ${limit} ms)`);
    const force = setTimeout(() => {
      log.error(`Graceful shutdown took longer than ${limit} ms (SHUTDOWN_TIMEOUT_MS); exiting`);
      process.exit(1);
    }, limit);
    force.unref();
    try {
      await drainInstance(app, log);
      for (const c of cleanups) await c();
    } catch (e) {
      log.error({ err: e }, 'Error during shutdown');
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e) => {
  process.stderr.write(`Fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
