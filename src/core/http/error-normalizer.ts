import { HttpException, HttpStatus } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { STATUS_TO_CODE, DomainError, DomainErrorCode } from './domain-error';

export interface NormalizedError {
  statusCode: number;
  error: string;
  code: DomainErrorCode;
  message: string | string[];
  retryAfterSeconds?: number;
  details?: Record<string, unknown>;
  /** True when the error was not expected (a bug or an outage): logged with stack, message hidden. */
  unexpected: boolean;
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASON[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}

/** Postgres error codes that mean "your input conflicts", never "the server broke". */
function fromPostgres(err: { code?: string; detail?: string; constraint?: string }): NormalizedError | null {
  switch (err.code) {
    case '23505':
      return mk(409, 'CONFLICT', 'The resource already exists');
    case '22P02': // invalid_text_representation (e.g. a malformed uuid that slipped through)
    case '22003': // numeric out of range
    case '22001': // string too long
      return mk(400, 'BAD_REQUEST', 'A value has an invalid format or is out of range');
    case '23514': // check violation: a business invariant such as a non-negative balance
      return mk(422, 'UNPROCESSABLE', 'The request breaks a rule of the system');
    case '23503':
      return mk(404, 'NOT_FOUND', 'A referenced resource does not exist');
    case '40001':
    case '40P01':
      return mk(409, 'CONFLICT', 'The request conflicted with a concurrent change; retry it');
    default:
      return null;
  }
}

function mk(statusCode: number, code: DomainErrorCode, message: string | string[], extra: Partial<NormalizedError> = {}): NormalizedError {
  return { statusCode, error: reasonPhrase(statusCode), code, message, unexpected: false, ...extra };
}

/**
 * Fastify's body-parsing errors as body-parser's (`type`), so both read the same to clients.
 * Applied before Nest's error handler, which would otherwise turn them into a bare HttpException.
 */
export function bodyParsingError(err: unknown): unknown {
  const code = (err as { code?: unknown })?.code;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return Object.assign(new Error('Malformed JSON in request body'), { type: 'entity.parse.failed', status: 400 });
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return Object.assign(new Error('Request body is too large'), { type: 'entity.too.large', status: 413 });
  return err;
}

export function normalizeError(exception: unknown): NormalizedError {
  if (exception instanceof DomainError) {
    return mk(exception.status, exception.code, exception.messages ?? exception.message, {
      retryAfterSeconds: exception.retryAfterSeconds,
      details: exception.details,
    });
  }
  if (exception instanceof ThrottlerException) {
    return mk(429, 'RATE_LIMITED', 'Too many requests, slow down');
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    let message: string | string[] = exception.message;
    if (typeof body === 'object' && body && 'message' in body) {
      message = (body as { message: string | string[] }).message;
    } else if (typeof body === 'string') {
      message = body;
    }
    if (status >= 500) return mk(status, 'INTERNAL', reasonPhrase(status), { unexpected: true });
    const details = typeof body === 'object' && body && 'details' in body ? (body as { details: Record<string, unknown> }).details : undefined;
    return mk(status, STATUS_TO_CODE[status] ?? 'BAD_REQUEST', message, details ? { details } : {});
  }
  if (exception instanceof Error && exception.name === 'MoneyFormatError') {
    const field = (exception as Error & { field?: string }).field;
    return mk(400, 'BAD_REQUEST', exception.message, field ? { details: { field } } : {});
  }
  const e = exception as { type?: string; status?: number; statusCode?: number; code?: string; name?: string };
  // body-parser errors
  if (e && e.type === 'entity.parse.failed') return mk(400, 'BAD_REQUEST', 'Malformed JSON in request body');
  if (e && e.type === 'entity.too.large') return mk(413, 'PAYLOAD_TOO_LARGE', 'Request body is larger than the 1 MiB limit');
  if (e && (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')) {
    return mk(415, 'BAD_REQUEST', 'Unsupported body encoding');
  }
  if (e && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    const pg = fromPostgres(e as never);
    if (pg) return pg;
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return mk(status, STATUS_TO_CODE[status] ?? 'BAD_REQUEST', reasonPhrase(status));
  }
  return mk(HttpStatus.INTERNAL_SERVER_ERROR, 'INTERNAL', 'Internal server error', { unexpected: true });
}
