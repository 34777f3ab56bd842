import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError } from './api';
import { getTokens, onTokens, setTokens, type SessionUser, type Tokens } from './tokens';

export type { SessionUser } from './tokens';

export interface SignUpInput {
  username: string;
  email: string;
  password: string;
  role?: 'user' | 'creator';
}

export interface SessionValue {
  user: SessionUser | null;
  accessToken: string | null;
  /** Set when the server ended the session (revoked, expired refresh token): shown on the sign-in form. */
  notice: string | null;
  signIn(email: string, password: string): Promise<void>;
  signUp(input: SignUpInput): Promise<void>;
  signOut(): Promise<void>;
}

const Ctx = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [tokens, setState] = useState<Tokens | null>(() => getTokens());
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(
    () =>
      onTokens((t, reason) => {
        setState(t);
        if (reason === 'revoked') setNotice('Your session ended. Please sign in again.');
        else if (t) setNotice(null);
      }),
    [],
  );

  // A stored session: check it still works (the 401 path refreshes or lands on sign-in) and pick up role changes.
  useEffect(() => {
    const t = getTokens();
    if (!t) return;
    api<SessionUser | { user: SessionUser }>('/auth/me')
      .then((u) => {
        const user = 'user' in u ? u.user : u;
        const now = getTokens();
        if (now && user?.id === now.user.id) setTokens({ ...now, user: { ...now.user, ...user } }, 'profile');
      })
      .catch(() => undefined);
  }, []);

  const signIn = useCallback(async (email: string, password: string) => {
    const t = await api<Tokens>('/auth/login', { body: { email, password }, anonymous: true });
    setTokens(t, 'signin');
  }, []);

  const signUp = useCallback(async (input: SignUpInput) => {
    const t = await api<Tokens>('/auth/register', { body: input, anonymous: true });
    setTokens(t, 'signin');
  }, []);

  const signOut = useCallback(async () => {
    const t = getTokens();
    try {
      if (t) await api('/auth/logout', { body: { refreshToken: t.refreshToken } });
    } catch (e) {
      if (!(e instanceof ApiError)) console.warn('sign-out request failed', e);
    } finally {
      setTokens(null, 'signout');
    }
  }, []);

  const value = useMemo<SessionValue>(
    () => ({ user: tokens?.user ?? null, accessToken: tokens?.accessToken ?? null, notice, signIn, signUp, signOut }),
    [tokens, notice, signIn, signUp, signOut],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession() outside <SessionProvider>');
  return v;
}

/** The signed-in user; only for pages rendered behind the sign-in gate. */
export function useUser(): SessionUser {
  const { user } = useSession();
  if (!user) throw new Error('useUser() without a session');
  return user;
}
