import 'reflect-metadata';
import { INestApplication, Logger, ValidationPipe } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import express, { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger as PinoLogger } from 'nestjs-pino';
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import { AppConfig } from './core/config/config';
import { sendError } from './core/http/all-exceptions.filter';
import { correlationIdOf, genRequestId } from './core/http/correlation';
import { bodyParsingError, normalizeError } from './core/http/error-normalizer';
import { RedisIoAdapter } from './core/realtime/redis-io.adapter';
import { mountQueueDashboard } from './core/queue/queue-dashboard';
import { MetricsService } from './core/observability/metrics.service';
import { registerFastifyHttpMetrics } from './core/observability/http-metrics.middleware';

export const BODY_LIMIT = '1mb';
const BODY_LIMIT_BYTES = 1024 * 1024;
const WEBHOOK_LIMIT_BYTES = 256 * 1024;
const WEBHOOK_PATH = '/api/payments/webhooks';

/** Paths the API owns; everything else may be the React client. */
const SERVER_PATHS = /^\/(api|graphql|socket\.io|metrics|admin\/queues)(\/|$|\?)/;

/**
 * Builds the whole application (not yet listening). Used by `main.ts`, by the e2e harness
 * and by benchmarks, so they all run exactly the production wiring.
 */
export async function createApp(config: AppConfig): Promise<App> {
  return config.httpAdapter === 'fastify' ? createFastifyApp(config) : createExpressApp(config);
}

function helmetOptions(config: AppConfig) {
  return {
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
  };
}

function corsOptions(config: AppConfig) {
  return {
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
    credentials: true,
    exposedHeaders: ['Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
    maxAge: 600,
  };
}

function useCommon(app: INestApplication, config: AppConfig) {
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
}

const trustedProxies = (config: AppConfig) => config.trustProxy.split(',').map((s) => s.trim()).filter(Boolean);

/** Nest installs its error handler through the adapter: body-parsing errors are translated first. */
class AppFastifyAdapter extends FastifyAdapter {
  override setErrorHandler(handler: Parameters<FastifyAdapter['setErrorHandler']>[0]) {
    return super.setErrorHandler(function (this: unknown, err: unknown, request: unknown, reply: unknown) {
      return (handler as (...a: unknown[]) => unknown).call(this, bodyParsingError(err), request, reply);
    } as never);
  }
}

async function createFastifyApp(config: AppConfig): Promise<App> {
  const adapter = new AppFastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: trustedProxies(config),
    // Correlation id: the caller's X-Request-Id when sane; also put on the raw request for pino-http.
    genReqId: (req: IncomingMessage) => {
      const id = genRequestId(req);
      (req as { id?: string }).id = id;
      return id;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(PinoLogger));
  if (config.database.migrationsRun) await runMigrations(app.get(DataSource), config.database.poolSize);
  // Typed from the adapter (its fastify copy may differ from the top-level one).
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  if (config.metricsEnabled) registerFastifyHttpMetrics(fastify, app.get(MetricsService));

  await mountQueueDashboard(app, 'fastify');
  await app.register(fastifyHelmet as never, { ...helmetOptions(config), global: true });
  app.enableCors(corsOptions(config));

  // JSON bodies up to 1 MiB (Fastify's parser, prototype-poisoning safe); an empty JSON body is {} as
  // with body-parser. Payment webhooks are verified over their exact bytes (any content type): kept raw
  // in `request.rawBody` and never parsed.
  const defaultJson = fastify.getDefaultJsonParser('error', 'ignore');
  const isWebhook = (req: { url: string }) => req.url.startsWith(WEBHOOK_PATH);
  const keepRaw = (req: object, body: Buffer) => {
    if (body.length > WEBHOOK_LIMIT_BYTES) {
      const err = Object.assign(new Error('Request body is too large'), { statusCode: 413, type: 'entity.too.large' });
      throw err;
    }
    (req as { rawBody?: Buffer }).rawBody = body;
  };
  fastify.removeContentTypeParser(['application/json']);
  fastify.addContentTypeParser(['application/json', 'application/*+json'], { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    if (isWebhook(req)) {
      try {
        keepRaw(req, body);
      } catch (e) {
        return done(e as Error, undefined);
      }
      return done(null, undefined);
    }
    if (body.length === 0) return done(null, {});
    defaultJson(req, body as unknown as string, done);
  });
  // Anything else is read and left unparsed (like Express without a parser for it): raw for webhooks.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    if (isWebhook(req)) {
      try {
        keepRaw(req, body);
      } catch (e) {
        return done(e as Error, undefined);
      }
    }
    done(null, undefined);
  });

  // The React client: its files (cached an hour), and index.html for any other GET a browser makes
  // outside the API's paths (SPA routes). The API's own 404s stay the contract's JSON.
  const clientDist = clientBuild();
  if (config.serveClient && clientDist) {
    // Loaded only here: @fastify/static 10 pulls an ESM-only dependency that Jest's CommonJS runtime cannot load.
    const fastifyStatic = (require('@fastify/static') as typeof import('@fastify/static')).default;
    await app.register(fastifyStatic as never, { root: clientDist, index: false, maxAge: '1h', wildcard: false });
    fastify.get('/*', (request, reply) => {
      const accept = (request.headers.accept ?? '*/*').toLowerCase();
      if (SERVER_PATHS.test(request.url) || !/text\/html|text\/\*|\*\/\*/.test(accept)) return reply.callNotFound();
      return (reply as unknown as { sendFile(file: string, opts: object): unknown }).sendFile('index.html', { maxAge: 0 });
    });
  }

  useCommon(app, config);
  return app;
}

async function createExpressApp(config: AppConfig): Promise<App> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(PinoLogger));
  if (config.database.migrationsRun) await runMigrations(app.get(DataSource), config.database.poolSize);
  app.set('trust proxy', trustedProxies(config));
  app.disable('x-powered-by');

  // Correlation id first, so every response (even a body-parser error) carries one.
  app.use((req: Request & { id?: string }, res: Response, next: NextFunction) => {
    req.id = genRequestId(req);
    res.setHeader('X-Request-Id', req.id);
    next();
  });

  // The queue dashboard ships its own inline scripts: mounted before the strict CSP.
  await mountQueueDashboard(app, 'express');

  app.use(helmet(helmetOptions(config)));
  app.enableCors(corsOptions(config));

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

  useCommon(app, config);

  const clientDist = clientBuild();
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

/** src/ under ts-node, dist/src/ when built: the client build sits at the repository root. */
function clientBuild(): string | undefined {
  return [resolve(__dirname, '..', 'client', 'dist'), resolve(__dirname, '..', '..', 'client', 'dist')].find((d) => existsSync(join(d, 'index.html')));
}

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
