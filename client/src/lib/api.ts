import { getAccessToken, refreshTokens } from './tokens';

/** A refused REST call: HTTP status, a short code (from the body or derived from the status) and the message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

export interface ApiOptions {
  method?: string;
  body?: unknown;
  idempotencyKey?: string;
  query?: Record<string, string | number | undefined>;
  /** Send no token (sign-in, sign-up). */
  anonymous?: boolean;
}

/** A fresh key for one money-moving action: keep it across retries of that action, make a new one for the next. */
export function newIdempotencyKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function toError(status: number, body: unknown): ApiError {
  let message = `HTTP ${status}`;
  let code = CODES[status] ?? (status >= 500 ? 'SERVER_ERROR' : 'ERROR');
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; code?: unknown; error?: unknown };
    if (Array.isArray(b.message)) message = b.message.join('; ');
    else if (typeof b.message === 'string') message = b.message;
    if (typeof b.code === 'string') code = b.code;
  } else if (typeof body === 'string' && body) message = body;
  return new ApiError(status, code, message, body);
}

function url(path: string, query?: ApiOptions['query']): string {
  const p = path.startsWith('/api/') || path === '/api' ? path : `/api${path.startsWith('/') ? '' : '/'}${path}`;
  if (!query) return p;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${p}?${s}` : p;
}

async function send(path: string, opts: ApiOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (token && !opts.anonymous) headers.Authorization = `Bearer ${token}`;
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  return fetch(url(path, opts.query), {
    method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
}

/**
 * Same-origin JSON call under /api with the session's bearer token. A 401 refreshes the tokens
 * once (rotation, shared by concurrent callers) and repeats the call; when the refresh fails the
 * session is over and the app shows sign-in.
 */
export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  const token = getAccessToken();
  let res = await send(path, opts, token);
  if (res.status === 401 && token && !opts.anonymous) {
    const next = await refreshTokens(token);
    if (next) res = await send(path, opts, next.accessToken);
  }
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) throw toError(res.status, body);
  return body as T;
}

/** A human sentence for any error thrown by api(), urql or the socket. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.status === 429 ? `${e.message} (too many requests, try again shortly)` : e.message;
  if (e && typeof e === 'object' && 'graphQLErrors' in e) {
    const g = e as { graphQLErrors: { message: string }[]; networkError?: Error; message: string };
    if (g.graphQLErrors?.length) return g.graphQLErrors.map((x) => x.message).join('; ');
    if (g.networkError) return g.networkError.message;
    return g.message;
  }
  return e instanceof Error ? e.message : String(e);
}
