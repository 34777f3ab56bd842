import 'reflect-metadata';
import { INestApplication, Logger, ValidationPipe } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger as PinoLogger } from 'nestjs-pino';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import { AppConfig } from './core/config/config';
import { sendError } from './core/http/all-exceptions.filter';
import { correlationIdOf, genRequestId } from './core/http/correlation';
import { normalizeError } from './core/http/error-normalizer';
import { RedisIoAdapter } from './core/realtime/redis-io.adapter';
import { mountQueueDashboard } from './core/queue/queue-dashboard';

export const BODY_LIMIT = '1mb';

/** Paths the API owns; everything else may be the React client. */
const SERVER_PATHS = /^\/(api|graphql|socket\.io|metrics|admin\/queues)(\/|$|\?)/;

/**
 * Builds the whole application (not yet listening). Used by `main.ts`, by the e2e harness
 * and by benchmarks, so they all run exactly the production wiring.
 */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(PinoLogger));
  if (config.database.migrationsRun) await runMigrations(app.get(DataSource), config.database.poolSize);
  app.set('trust proxy', config.trustProxy.split(',').map((s) => s.trim()).filter(Boolean));
  app.disable('x-powered-by');

  // Correlation id first, so every response (even a body-parser error) carries one.
  app.use((req: Request & { id?: string }, res: Response, next: NextFunction) => {
    req.id = genRequestId(req);
    res.setHeader('X-Request-Id', req.id);
    next();
  });

  // The queue dashboard ships its own inline scripts: mounted before the strict CSP.
  mountQueueDashboard(app);

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          imgSrc: ["'self'", 'data:', 'https:'],
          mediaSrc: ["'self'", 'https:', 'blob:'],
          // The Watch2Earn player embeds hosted providers' players (YouTube, Vimeo, Cloudflare Stream).
          frameSrc: ["'self'", 'https://www.youtube-nocookie.com', 'https://www.youtube.com', 'https://player.vimeo.com', 'https://iframe.videodelivery.net', 'https://*.cloudflarestream.com'],
          // GraphiQL (development only) loads from a CDN.
          scriptSrc: config.graphql.playground ? ["'self'", "'unsafe-inline'", 'https://unpkg.com'] : ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'", 'https://unpkg.com'],
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.enableCors({
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
    credentials: true,
    exposedHeaders: ['Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
    maxAge: 600,
  });

  // Payment webhooks are verified over their exact bytes (any content type): kept raw in
  // `req.rawBody` and never parsed here, so the JSON parser below leaves them alone.
  const rawWebhook = express.raw({ type: () => true, limit: '256kb' });
  app.use('/api/payments/webhooks', (req: Request & { rawBody?: Buffer }, res: Response, next: NextFunction) =>
    rawWebhook(req, res, (err?: unknown) => {
      if (err) {
        const n = normalizeError(err);
        return sendError(res, n.statusCode, n.error, n.message, correlationIdOf(req));
      }
      req.rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      next();
    }),
  );

  // JSON bodies up to 1 MiB; malformed JSON → 400 and oversize → 413, in the contract's shape.
  const json = express.json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] });
  app.use((req: Request, res: Response, next: NextFunction) =>
    json(req, res, (err?: unknown) => {
      if (!err) return next();
      const n = normalizeError(err);
      sendError(res, n.statusCode, n.error, n.message, correlationIdOf(req));
    }),
  );

  app.setGlobalPrefix('api', { exclude: ['metrics'] });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      stopAtFirstError: false,
    }),
  );
  app.useWebSocketAdapter(new RedisIoAdapter(app, config));

  // src/ under ts-node, dist/src/ when built: the client build sits at the repository root.
  const clientDist = [resolve(__dirname, '..', 'client', 'dist'), resolve(__dirname, '..', '..', 'client', 'dist')].find((d) =>
    existsSync(join(d, 'index.html')),
  );
  if (config.serveClient && clientDist) {
    const statics = express.static(clientDist, { index: false, maxAge: '1h' });
    app.use((req: Request, res: Response, next: NextFunction) => {
      if (SERVER_PATHS.test(req.path) || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
      statics(req, res, () => {
        if (req.accepts('html')) return res.sendFile(join(clientDist, 'index.html'));
        next();
      });
    });
  }
  return app;
}

export type App = INestApplication;

/** Arbitrary constant: the advisory-lock key that serialises migrations across instances. */
const MIGRATION_LOCK = 7_245_001;

/**
 * Pending migrations, each in its own transaction. Several replicas starting at once take
 * turns on a Postgres advisory lock; the later ones find nothing left to run. (The embedded
 * single-connection database has one process by construction and needs no lock.)
 */
export async function runMigrations(ds: DataSource, poolSize: number): Promise<void> {
  const log = new Logger('Migrations');
  if (poolSize < 2) {
    const done = await ds.runMigrations({ transaction: 'each' });
    if (done.length) log.log(`Applied ${done.map((m) => m.name).join(', ')}`);
    return;
  }
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await ds.runMigrations({ transaction: 'each' });
    if (done.length) log.log(`Applied ${done.map((m) => m.name).join(', ')}`);
  } finally {
    await qr.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await qr.release();
  }
}
