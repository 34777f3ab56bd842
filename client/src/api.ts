export type Role = 'user' | 'creator' | 'admin' | string;

export interface User {
  id: string;
  username: string;
  email: string;
  roles: Role[];
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: User;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

const STORAGE_KEY = 'softchat.session';

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s && typeof s.accessToken === 'string' && s.user ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  try {
    if (s) localStorage.setItem(STORAGE_KEY, JSON.stringify(s));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage unavailable (private mode): the session stays in memory only */
  }
}

function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) {
    const m = (body as { message: unknown }).message;
    if (Array.isArray(m)) return m.join('; ');
    if (typeof m === 'string') return m;
  }
  return `HTTP ${status}`;
}

/** Same-origin JSON request; relative URLs so the Vite proxy / production server both work. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  const res = await fetch(path, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, errorMessage(res.status, body), body);
  return body as T;
}

export interface Health {
  httpStatus: number;
  status: string;
  body: unknown;
}

export async function getHealth(): Promise<Health> {
  const res = await fetch('/api/health', { headers: { Accept: 'application/json' } });
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const status =
    body && typeof body === 'object' && typeof (body as { status?: unknown }).status === 'string'
      ? (body as { status: string }).status
      : res.ok
        ? 'ok'
        : 'error';
  return { httpStatus: res.status, status, body };
}

export const register = (username: string, email: string, password: string) =>
  api<Session>('/api/auth/register', { body: { username, email, password } });

export const login = (email: string, password: string) =>
  api<Session>('/api/auth/login', { body: { email, password } });

export const refresh = (refreshToken: string) =>
  api<Session>('/api/auth/refresh', { body: { refreshToken } });

/** GET /api/auth/me: accepts either the user itself or `{ user }`. */
export async function me(token: string): Promise<User | null> {
  const body = await api<unknown>('/api/auth/me', { token });
  if (body && typeof body === 'object') {
    const b = body as { user?: User; id?: string };
    if (b.user && typeof b.user === 'object') return b.user;
    if (typeof b.id === 'string') return body as User;
  }
  return null;
}

export const logout = (token: string, refreshToken?: string) =>
  api<unknown>('/api/auth/logout', { token, body: refreshToken ? { refreshToken } : {} });

/** ws(s)://<this host>/graphql, derived from the page's location (same origin). */
export function graphqlWsUrl(): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}/graphql`;
}
