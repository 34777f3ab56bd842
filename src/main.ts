import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import cluster from 'node:cluster';
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import pino from 'pino';
import { planProcesses, ProcessPlan, runPrimary, serveHandedConnections, tellPrimary } from './cluster';
import { AppConfig, loadConfig } from './core/config/config';
import { ConfigError } from './core/config/env-reader';
import { ensureLocalRedis, EmbeddedSetupError } from './core/redis/local-redis';

/**
 * Production and development entry point. With no DATABASE_URL an embedded Postgres (PGlite)
 * runs under DATA_DIR; with no REDIS_URL the local Redis is used, started from the PATH if
 * nothing answers. Production requires real URLs (checked by the config).
 *
 * Started directly, this process becomes the cluster primary when it has workers to run (several,
 * or one that needs the RUNTIME_FLAGS this process was not started with): see src/cluster.ts.
 */
async function main() {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const plan = planProcesses(config, process.execArgv, process.env.NODE_OPTIONS, __filename.endsWith('.ts'));
  if (cluster.isPrimary && plan.fork) return primary(config, plan);
  return instance(config, cluster.isWorker ? plan : null);
}

async function primary(config: AppConfig, plan: ProcessPlan) {
  const log = pino({ level: config.logLevel, base: { pid: process.pid, role: 'primary' } });
  const workerEnv: Record<string, string> = {};
  const cleanups: (() => Promise<void>)[] = [];
  // Several workers share one Redis: start the local one here, once, rather than in each worker.
  if (plan.workers > 1 && !config.redis.url) {
    try {
      const redis = await ensureLocalRedis({
        dataDir: join(config.dataDir, 'redis'),
        logger: { log: (m) => log.info(m), warn: (m) => log.warn(m) },
      });
      cleanups.push(() => redis.stop());
      workerEnv.REDIS_URL = redis.url;
    } catch (e) {
      if (e instanceof EmbeddedSetupError) {
        process.stderr.write(`${e.message}\n`);
        process.exit(1);
      }
      throw e;
    }
  }
  await runPrimary(config, plan, { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) }, { workerEnv, cleanups });
}

/** One whole instance: this process alone, or a cluster worker (`plan` given). */
async function instance(config: AppConfig, plan: ProcessPlan | null) {
  // Loaded here, not at the top: the primary never builds the application and need not load it.
  const [{ createApp }, { drainInstance }, { startEmbeddedPostgres }, { RealtimePublisher }] = await Promise.all([
    import('./bootstrap'),
    import('./core/shutdown'),
    import('./core/database/embedded-postgres'),
    import('./core/realtime/realtime.publisher'),
  ]);
  const log = new Logger(cluster.isWorker ? `Worker ${cluster.worker!.id}` : 'Boot');
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
  const flags = process.execArgv.filter((a) => a.startsWith('--')).join(' ') || '(none)';
  let handed: { closed: () => Promise<void> } | null = null;
  if (plan?.sticky) {
    // The primary accepts and hands connections over (src/cluster.ts): this worker does not listen.
    await app.init();
    // Fastify finishes booting (plugins, routes) in ready(), which listen() would call.
    await (app.getHttpAdapter().getInstance() as { ready?: () => PromiseLike<unknown> }).ready?.();
    app.flushLogs(); // listen() would do it: logs are buffered until then (bufferLogs)
    handed = serveHandedConnections(app.getHttpServer() as HttpServer, app.get(RealtimePublisher, { strict: false }).io.engine);
    log.log(`Worker ${cluster.worker!.id} (pid ${process.pid}) serving connections from the primary; V8/Node flags: ${flags}`);
  } else {
    await app.listen(config.port, config.host);
    log.log(
      `Softchat Realtime listening on http://${config.host}:${config.port} (REST /api, GraphQL /graphql, Socket.IO /socket.io)` +
        `${cluster.isWorker ? ` as worker ${cluster.worker!.id}` : ''}, pid ${process.pid}; V8/Node flags: ${flags}`,
    );
  }
  tellPrimary('ready');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    tellPrimary('draining');
    const limit = config.shutdownTimeoutMs;
    log.log(`${signal} received: draining this instance (at most ${limit} ms)`);
    const force = setTimeout(() => {
      log.error(`Graceful shutdown took longer than ${limit} ms (SHUTDOWN_TIMEOUT_MS); exiting`);
      process.exit(1);
    }, limit);
    force.unref();
    try {
      await drainInstance(app, log, { connectionsClosed: handed?.closed });
      for (const c of cleanups) await c();
    } catch (e) {
      log.error({ err: e }, 'Error during shutdown');
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // The primary is gone only when it was killed (it outlives its workers otherwise): the instance
  // crashed, and its workers go with it at once, as one process would (freeing the port for a restart).
  if (cluster.isWorker)
    process.on('disconnect', () => {
      if (closing) return;
      process.stderr.write(`Worker ${cluster.worker!.id}: primary process gone; exiting\n`);
      process.exit(1);
    });
}

main().catch((e) => {
  process.stderr.write(`Fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
