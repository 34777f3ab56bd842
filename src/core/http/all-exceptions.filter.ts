import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { GqlContextType } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import type { ServerResponse } from 'node:http';
import { normalizeError } from './error-normalizer';
import { correlationIdOf } from './correlation';

/**
 * One filter for every transport: HTTP gets the contract's error body, GraphQL an error with
 * `extensions.code` and `statusCode`, sockets an error ack (see realtime/ws-exception.filter).
 * Unexpected errors are logged with the correlation id and never leak internals.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost) {
    const type = host.getType<GqlContextType>();
    const n = normalizeError(exception);

    if (type === 'graphql') {
      if (n.unexpected) this.logger.error({ err: exception }, 'Unexpected GraphQL error');
      return new GraphQLError(Array.isArray(n.message) ? n.message.join('; ') : n.message, {
        extensions: { code: n.code, statusCode: n.statusCode, ...(n.details ? { details: n.details } : {}) },
      });
    }
    if (type !== 'http') {
      // Sockets are handled by the WS filter; anything else is only logged.
      this.logger.error({ err: exception }, 'Unhandled error outside HTTP');
      return;
    }

    const ctx = host.switchToHttp();
    const req = ctx.getRequest<{ originalUrl?: string; url?: string }>();
    const res = ctx.getResponse<unknown>();
    const correlationId = correlationIdOf(req);
    if (n.unexpected) {
      this.logger.error({ err: exception, correlationId, path: req.originalUrl ?? req.url }, 'Unexpected error');
    }
    sendError(res, n.statusCode, n.error, n.message, correlationId, n.retryAfterSeconds, n.details);
  }
}

/** A response object of either HTTP adapter (Express response, Fastify reply) or a bare Node response. */
export type AnyResponse = unknown;

interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  header(name: string, value: string): unknown;
  code(status: number): FastifyReplyLike;
  type(contentType: string): FastifyReplyLike;
  send(body: string): unknown;
}

function isFastifyReply(res: unknown): res is FastifyReplyLike {
  const r = res as Partial<FastifyReplyLike>;
  return !!r && typeof r.code === 'function' && typeof r.send === 'function' && typeof r.raw === 'object';
}

export function sendError(
  res: AnyResponse,
  statusCode: number,
  error: string,
  message: string | string[],
  correlationId?: string,
  retryAfterSeconds?: number,
  details?: Record<string, unknown>,
) {
  const body = JSON.stringify({
    statusCode,
    error,
    message,
    ...(details && statusCode < 500 ? { details } : {}),
    ...(correlationId ? { correlationId } : {}),
  });
  const retryAfter = retryAfterSeconds !== undefined ? String(Math.max(1, Math.ceil(retryAfterSeconds))) : undefined;
  if (isFastifyReply(res)) {
    if (res.sent || res.raw.headersSent) return;
    if (retryAfter) res.header('Retry-After', retryAfter);
    res.code(statusCode).type('application/json; charset=utf-8').send(body);
    return;
  }
  // Express response or a bare Node response (middleware): both are ServerResponse.
  const raw = res as ServerResponse;
  if (raw.headersSent) return;
  if (retryAfter) raw.setHeader('Retry-After', retryAfter);
  raw.statusCode = statusCode;
  raw.setHeader('Content-Type', 'application/json; charset=utf-8');
  raw.setHeader('Content-Length', Buffer.byteLength(body));
  raw.end(body);
}
