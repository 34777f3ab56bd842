import 'reflect-metadata';
import { Logger, ValidationPipe } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger as PinoLogger } from 'nestjs-pino';
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import { AppConfig } from './core/config/config';
import { genRequestId } from './core/http/correlation';
import { bodyParsingError } from './core/http/error-normalizer';
import { RedisIoAdapter } from './core/realtime/redis-io.adapter';
import { mountQueueDashboard } from './core/queue/queue-dashboard';
import { MetricsService } from './core/observability/metrics.service';
import { registerHttpMetrics } from './core/observability/http-metrics';

/** JSON bodies up to 1 MiB; payment webhooks (kept raw) up to 256 KiB. */
const BODY_LIMIT_BYTES = 1024 * 1024;
const WEBHOOK_LIMIT_BYTES = 256 * 1024;
const WEBHOOK_PATH = '/api/payments/webhooks';

/** Paths the API owns; everything else may be the React client. */
const SERVER_PATHS = /^\/(api|graphql|socket\.io|metrics|admin\/queues)(\/|$|\?)/;

export type App = NestFastifyApplication;

/** Nest installs its error handler through the adapter: body-parsing errors are translated first. */
class AppFastifyAdapter extends FastifyAdapter {
  override setErrorHandler(handler: Parameters<FastifyAdapter['setErrorHandler']>[0]) {
    return super.setErrorHandler(function (this: unknown, err: unknown, request: unknown, reply: unknown) {
      return (handler as (...a: unknown[]) => unknown).call(this, bodyParsingError(err), request, reply);
    } as never);
  }
}

/**
 * Builds the whole application (not yet listening) on Fastify (measured against Express for
 * issue 16: see docs/BENCHMARKS.md). Used by `main.ts`, by the e2e harness and by benchmarks,
 * so they all run exactly the production wiring.
 */
export async function createApp(config: AppConfig): Promise<App> {
  const adapter = new AppFastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // The same list syntax as before (`loopback, linklocal, uniquelocal`, addresses, CIDRs): proxy-addr.
    trustProxy: config.trustProxy.split(',').map((s) => s.trim()).filter(Boolean),
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
  // Nest's FastifyAdapter carries its own copy of fastify's types: the top-level ones are used here.
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

  // Correlation id first, so every response (even a body-parsing error) carries one.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  if (config.metricsEnabled) registerHttpMetrics(fastify, app.get(MetricsService));

  // The queue dashboard ships its own inline scripts: it opts out of the strict CSP below.
  await mountQueueDashboard(app);
  await app.register(fastifyHelmet as never, {
    global: true,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // HLS streams play through hls.js (Media Source Extensions): it fetches the playlists and
        // segments from the video's host (any https host, as for media-src) and transmuxes in a
        // worker it starts from a blob: URL; the element then plays a blob: URL.
        connectSrc: ["'self'", 'ws:', 'wss:', 'https:'],
        imgSrc: ["'self'", 'data:', 'https:'],
        mediaSrc: ["'self'", 'https:', 'blob:'],
        workerSrc: ["'self'", 'blob:'],
        // The Watch2Earn player embeds hosted providers' players (YouTube, Vimeo, Cloudflare Stream).
        frameSrc: ["'self'", 'https://www.youtube-nocookie.com', 'https://www.youtube.com', 'https://player.vimeo.com', 'https://iframe.videodelivery.net', 'https://*.cloudflarestream.com'],
        // GraphiQL (development only) loads from a CDN.
        scriptSrc: config.graphql.playground ? ["'self'", "'unsafe-inline'", 'https://unpkg.com'] : ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'", 'https://unpkg.com'],
      },
    },
    crossOriginEmbedderPolicy: false,
  });
  app.enableCors({
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
    credentials: true,
    exposedHeaders: ['Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
    maxAge: 600,
  });

  registerBodyParsers(fastify);

  // The React client: its files (cached an hour), and index.html for any other GET a browser makes
  // outside the API's paths (SPA routes). The API's own 404s stay the contract's JSON.
  const clientDist = clientBuild();
  if (config.serveClient && clientDist) {
    // Loaded only here: @fastify/static 10 pulls an ESM-only dependency that Jest's CommonJS runtime
    // cannot load (jest.config.js maps it for the dashboard's copy).
    const fastifyStatic = (require('@fastify/static') as typeof import('@fastify/static')).default;
    await app.register(fastifyStatic as never, { root: clientDist, index: false, maxAge: '1h', wildcard: false });
    fastify.get('/*', (request: FastifyRequest, reply: FastifyReply) => {
      // `Accept` checked by hand: an absent header, text/html, text/* or */* (what browsers send for pages).
      const accept = (request.headers.accept ?? '*/*').toLowerCase();
      if (SERVER_PATHS.test(request.url) || !/text\/html|text\/\*|\*\/\*/.test(accept)) return reply.callNotFound();
      return reply.sendFile('index.html', { maxAge: 0 });
    });
  }

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
  return app;
}

/**
 * JSON bodies (Fastify's parser: prototype-poisoning safe) up to 1 MiB; an empty JSON body is `{}`
 * as with body-parser. Payment webhooks are verified over their exact bytes (any content type):
 * kept raw in `request.rawBody` and never parsed. Any other content type is read and left
 * unparsed (the validation pipe then names the missing fields), never a 415.
 */
function registerBodyParsers(fastify: FastifyInstance) {
  const defaultJson = fastify.getDefaultJsonParser('error', 'ignore');
  const isWebhook = (req: FastifyRequest) => req.url.startsWith(WEBHOOK_PATH);
  const keepRaw = (req: FastifyRequest, body: Buffer): Error | null => {
    if (body.length > WEBHOOK_LIMIT_BYTES) return Object.assign(new Error('Request body is too large'), { status: 413, type: 'entity.too.large' });
    (req as FastifyRequest & { rawBody?: Buffer }).rawBody = body;
    return null;
  };
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser(['application/json', 'application/*+json'], { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    if (isWebhook(req)) return done(keepRaw(req, body), undefined);
    if (body.length === 0) return done(null, {});
    defaultJson(req, body as unknown as string, done);
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    done(isWebhook(req) ? keepRaw(req, body) : null, undefined);
  });
}

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
