/**
 * Domain errors carry a stable code; one mapping turns them into HTTP statuses, GraphQL
 * error extensions and socket acks, so every transport says the same thing.
 */
export type DomainErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  /** A second vote in a battle (409). */
  | 'ALREADY_VOTED'
  | 'UNPROCESSABLE'
  | 'INSUFFICIENT_FUNDS'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAVAILABLE'
  | 'BAD_GATEWAY'
  | 'INTERNAL';

export const CODE_TO_STATUS: Record<DomainErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_VOTED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE: 422,
  INSUFFICIENT_FUNDS: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  BAD_GATEWAY: 502,
};

export const STATUS_TO_CODE: Record<number, DomainErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL',
  502: 'BAD_GATEWAY',
  503: 'UNAVAILABLE',
};

export class DomainError extends Error {
  constructor(
    public readonly code: DomainErrorCode,
    message: string | string[],
    public readonly details?: Record<string, unknown>,
    public readonly retryAfterSeconds?: number,
  ) {
    super(Array.isArray(message) ? message.join('; ') : message);
    this.messages = Array.isArray(message) ? message : undefined;
    this.name = 'DomainError';
  }
  readonly messages?: string[];
  get status(): number {
    return CODE_TO_STATUS[this.code];
  }
}

export const badRequest = (m: string | string[], d?: Record<string, unknown>) => new DomainError('BAD_REQUEST', m, d);
export const notFound = (m: string) => new DomainError('NOT_FOUND', m);
export const forbidden = (m = 'You may not access this resource') => new DomainError('FORBIDDEN', m);
export const conflict = (m: string, d?: Record<string, unknown>) => new DomainError('CONFLICT', m, d);
export const unprocessable = (m: string, d?: Record<string, unknown>) => new DomainError('UNPROCESSABLE', m, d);
export const unauthorized = (m = 'Authentication required') => new DomainError('UNAUTHORIZED', m);
export const rateLimited = (retryAfterSeconds: number, m = 'Too many requests') =>
  new DomainError('RATE_LIMITED', m, { retryAfterSeconds }, retryAfterSeconds);
/** An outside service this request depends on is down or timed out (503): retrying later may work. */
export const unavailable = (m: string, d?: Record<string, unknown>) => new DomainError('UNAVAILABLE', m, d);
/** An outside service (a payment provider) failed (502) or is not available / not configured (503). */
export const badGateway = (m: string) => new DomainError('BAD_GATEWAY', m);
export const serviceUnavailable = (m: string) => unavailable(m);
