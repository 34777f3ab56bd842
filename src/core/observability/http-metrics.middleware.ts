import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { FastifyInstance } from 'fastify';
import { MetricsService } from './metrics.service';

/** Express: the request-duration histogram, labelled by the matched route pattern. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction) {
    const end = this.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      // The matched route pattern (never the raw URL) keeps label cardinality bounded.
      const route = req.route?.path ? `${req.baseUrl ?? ''}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  }
}

/** Fastify: the same histogram from Fastify's own hooks (the route pattern is `routeOptions.url`). */
export function registerFastifyHttpMetrics(fastify: FastifyInstance, metrics: MetricsService) {
  const started = new WeakMap<object, (labels?: Partial<Record<'method' | 'route' | 'status', string>>) => number>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    started.set(request, metrics.httpDuration.startTimer());
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const end = started.get(request);
    if (end) end({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    done();
  });
}
