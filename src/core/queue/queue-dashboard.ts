import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { INestApplication } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { TokenService } from '../auth/token.service';
import { sendError } from '../http/all-exceptions.filter';
import { correlationIdOf } from '../http/correlation';
import { DomainError } from '../http/domain-error';
import { JobsService } from './jobs.service';
import type { Role } from '../auth/roles';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * How the dashboard checks an email and password. Core imports nothing from `modules/`: the
 * auth module provides this token (checked like a login and throttled like one).
 */
export const DASHBOARD_AUTHENTICATOR = Symbol('DASHBOARD_AUTHENTICATOR');
export interface DashboardAuthenticator {
  /** The user's roles if the credentials are valid, null if not; throws a DomainError (429) when throttled. */
  checkPassword(email: string, password: string, ip: string): Promise<{ roles: Role[] } | null>;
}

type Verdict = { ok: true } | { ok: false; status: number; error: string; message: string; challenge?: boolean; retryAfterSeconds?: number };

/**
 * The BullMQ dashboard, for admins only. Browsers sign in with HTTP Basic (an admin's email
 * and password, checked like a login and throttled like one); tools may send a Bearer token.
 */
export async function mountQueueDashboard(app: INestApplication) {
  const jobs = app.get(JobsService);
  const tokens = app.get(TokenService);
  const authenticator = app.get<symbol, DashboardAuthenticator>(DASHBOARD_AUTHENTICATOR);

  // A successful Basic check is remembered briefly: the dashboard polls every few seconds.
  const basicCache = new Map<string, number>();
  const unauthorized: Verdict = { ok: false, status: 401, error: 'Unauthorized', message: 'Admin credentials required', challenge: true };
  const adminsOnly: Verdict = { ok: false, status: 403, error: 'Forbidden', message: 'Admins only' };

  async function check(header: string, ip: string): Promise<Verdict> {
    try {
      const bearer = TokenService.bearer(header);
      if (bearer) {
        const user = await tokens.verify(bearer);
        return user.roles.includes('admin') ? { ok: true } : adminsOnly;
      }
      const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      if (!m) return unauthorized;
      const cacheKey = createHash('sha256').update(m[1]).digest('hex');
      const cachedUntil = basicCache.get(cacheKey);
      if (cachedUntil && cachedUntil > Date.now()) return { ok: true };
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const email = decoded.slice(0, sep).trim().toLowerCase();
      const password = decoded.slice(sep + 1);
      const user = await authenticator.checkPassword(email, password, ip);
      if (!user) return unauthorized;
      if (!user.roles.includes('admin')) return adminsOnly;
      if (basicCache.size > 1000) basicCache.clear();
      basicCache.set(cacheKey, Date.now() + 60_000);
      return { ok: true };
    } catch (e) {
      if (e instanceof DomainError) {
        if (e.code === 'UNAUTHORIZED') return unauthorized;
        return { ok: false, status: e.status, error: e.code === 'RATE_LIMITED' ? 'Too Many Requests' : 'Error', message: e.message, retryAfterSeconds: e.retryAfterSeconds };
      }
      throw e;
    }
  }

  function refuse(res: FastifyReply, v: Exclude<Verdict, { ok: true }>, req: FastifyRequest) {
    if (v.challenge) res.header('WWW-Authenticate', 'Basic realm="Softchat queues", charset="UTF-8"');
    sendError(res, v.status, v.error, v.message, correlationIdOf(req), v.retryAfterSeconds);
  }

  const queues = jobs.allQueues().map((q) => new BullMQAdapter(q));
  const options = { uiConfig: { boardTitle: 'Softchat queues' } };

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues, serverAdapter, options });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  await fastify.register(async (scope) => {
    // The dashboard ships its own inline scripts: exempt from the strict CSP (@fastify/helmet
    // skips a route whose `config.helmet.skipRoute` is set).
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), helmet: { skipRoute: true } } as typeof route.config;
    });
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const v = await check(request.headers.authorization ?? '', request.ip ?? 'unknown');
      if (!v.ok) {
        refuse(reply, v, request);
        return reply;
      }
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}
