import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { GqlContextType } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
    const req = ctx.getRequest<FastifyRequest>();
    const res = ctx.getResponse<FastifyReply>();
    const correlationId = correlationIdOf(req);
    if (n.unexpected) {
      this.logger.error({ err: exception, correlationId, path: req.url }, 'Unexpected error');
    }
    sendError(res, n.statusCode, n.error, n.message, correlationId, n.retryAfterSeconds, n.details);
  }
}

export function sendError(
  reply: FastifyReply,
  statusCode: number,
  error: string,
  message: string | string[],
  correlationId?: string,
  retryAfterSeconds?: number,
  details?: Record<string, unknown>,
) {
  if (reply.sent) return;
  if (retryAfterSeconds !== undefined) reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  reply.code(statusCode).send({
    statusCode,
    error,
    message,
    ...(details && statusCode < 500 ? { details } : {}),
    ...(correlationId ? { correlationId } : {}),
  });
}
