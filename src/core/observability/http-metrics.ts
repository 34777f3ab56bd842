import type { FastifyInstance } from 'fastify';
import { MetricsService } from './metrics.service';

type EndTimer = (labels?: Partial<Record<'method' | 'route' | 'status', string>>) => number;

/**
 * The request-duration histogram from Fastify's hooks, labelled by the matched route pattern
 * (`routeOptions.url`, never the raw URL, so label cardinality stays bounded).
 */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: MetricsService) {
  const started = new WeakMap<object, EndTimer>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    started.set(request, metrics.httpDuration.startTimer());
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const end = started.get(request);
    // The SPA fallback's catch-all is not a route of the API.
    const url = request.routeOptions.url;
    if (end) end({ method: request.method, route: url && url !== '/*' ? url : 'unmatched', status: String(reply.statusCode) });
    done();
  });
}
