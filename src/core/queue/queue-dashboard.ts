import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
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

/**
 * The BullMQ dashboard, for admins only. Browsers sign in with HTTP Basic (an admin's email
 * and password, checked like a login and throttled like one); tools may send a Bearer token.
 */
export function mountQueueDashboard(app: INestApplication) {
  const jobs = app.get(JobsService);
  const tokens = app.get(TokenService);
  const authenticator = app.get<symbol, DashboardAuthenticator>(DASHBOARD_AUTHENTICATOR);

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues: jobs.allQueues().map((q) => new BullMQAdapter(q)), serverAdapter, options: { uiConfig: { boardTitle: 'Softchat queues' } } });

  // A successful Basic check is remembered briefly: the dashboard polls every few seconds.
  const basicCache = new Map<string, number>();

  async function adminOnly(req: Request, res: Response, next: NextFunction) {
    const header = req.headers.authorization ?? '';
    const challenge = () => {
      res.setHeader('WWW-Authenticate', 'Basic realm="Softchat queues", charset="UTF-8"');
      sendError(res, 401, 'Unauthorized', 'Admin credentials required', correlationIdOf(req));
    };
    try {
      const bearer = TokenService.bearer(header);
      if (bearer) {
        const user = await tokens.verify(bearer);
        if (!user.roles.includes('admin')) return sendError(res, 403, 'Forbidden', 'Admins only', correlationIdOf(req));
        return next();
      }
      const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      if (!m) return challenge();
      const cacheKey = createHash('sha256').update(m[1]).digest('hex');
      const cachedUntil = basicCache.get(cacheKey);
      if (cachedUntil && cachedUntil > Date.now()) return next();
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const email = decoded.slice(0, sep).trim().toLowerCase();
      const password = decoded.slice(sep + 1);
      const user = await authenticator.checkPassword(email, password, req.ip ?? 'unknown');
      if (!user) return challenge();
      if (!user.roles.includes('admin')) return sendError(res, 403, 'Forbidden', 'Admins only', correlationIdOf(req));
      if (basicCache.size > 1000) basicCache.clear();
      basicCache.set(cacheKey, Date.now() + 60_000);
      next();
    } catch (e) {
      if (e instanceof DomainError) {
        if (e.code === 'UNAUTHORIZED') return challenge();
        return sendError(res, e.status, e.code === 'RATE_LIMITED' ? 'Too Many Requests' : 'Error', e.message, correlationIdOf(req), e.retryAfterSeconds);
      }
      next(e);
    }
  }

  app.use(QUEUE_DASHBOARD_PATH, adminOnly, serverAdapter.getRouter());
}
