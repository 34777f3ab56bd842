/**
 * The session's tokens and the one place they change. REST, graphql-ws and Socket.IO all read the
 * current access token from here and listen for changes, so a refresh (rotation) re-authenticates
 * every connection, and a failed refresh (revoked session) signs the whole app out at once.
 */
export interface SessionUser {
  id: string;
  username: string;
  email: string;
  roles: string[];
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  user: SessionUser;
}

/** signin: a new session; refresh: rotated tokens (reconnect live channels); profile: only the user's details changed. */
export type TokenReason = 'signin' | 'refresh' | 'profile' | 'signout' | 'revoked';
type Listener = (t: Tokens | null, reason: TokenReason) => void;

const STORAGE_KEY = 'softchat.session';
const listeners = new Set<Listener>();
let current: Tokens | null = load();
let refreshing: Promise<Tokens | null> | null = null;

function load(): Tokens | null {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (!raw) return null;
    const t = JSON.parse(raw) as Tokens;
    return t && typeof t.accessToken === 'string' && typeof t.refreshToken === 'string' && t.user ? t : null;
  } catch {
    return null;
  }
}

function save(t: Tokens | null) {
  try {
    if (t) localStorage.setItem(STORAGE_KEY, JSON.stringify(t));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage unavailable: the session lives in memory only */
  }
}

export const getTokens = (): Tokens | null => current;
export const getAccessToken = (): string | null => current?.accessToken ?? null;

export function setTokens(t: Tokens | null, reason: TokenReason = t ? 'signin' : 'signout') {
  current = t;
  save(t);
  for (const l of [...listeners]) l(t, reason);
}

export function onTokens(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/**
 * Swaps the refresh token for a new pair (a refresh token works once, so concurrent callers share
 * one request). Resolves the new tokens, or null when the session is gone (revoked, expired):
 * then everyone is told with reason 'revoked'. `stale` is the access token the caller saw refused:
 * if another refresh already replaced it, that result is used instead of rotating again.
 */
export function refreshTokens(stale?: string | null): Promise<Tokens | null> {
  if (stale && current && current.accessToken !== stale) return Promise.resolve(current);
  if (refreshing) return refreshing;
  const t = current;
  if (!t) return Promise.resolve(null);
  refreshing = (async () => {
    try {
      const res = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refreshToken: t.refreshToken }),
      });
      if (res.status === 401 || res.status === 403 || res.status === 400) {
        if (current === t) setTokens(null, 'revoked');
        return null;
      }
      if (!res.ok) throw new Error(`refresh failed: HTTP ${res.status}`);
      const body = (await res.json()) as Partial<Tokens>;
      if (current !== t) return current; // signed out (or in again) meanwhile
      const next: Tokens = { accessToken: body.accessToken!, refreshToken: body.refreshToken!, user: body.user ?? t.user };
      setTokens(next, 'refresh');
      return next;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}
