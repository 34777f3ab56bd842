import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import {
  ApiError,
  getHealth,
  loadSession,
  login,
  logout,
  me,
  refresh,
  register,
  saveSession,
  type Health,
  type Session,
} from './api';
import { useGraphqlWs, useSocketIo, type ConnState } from './realtime';

function HealthPanel() {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stop = false;
    const poll = async () => {
      try {
        const h = await getHealth();
        if (!stop) {
          setHealth(h);
          setError(null);
        }
      } catch (e) {
        if (!stop) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void poll();
    const t = window.setInterval(poll, 10_000);
    return () => {
      stop = true;
      window.clearInterval(t);
    };
  }, []);

  const ok = health?.httpStatus === 200;
  return (
    <section className="card">
      <h2>API health</h2>
      {error ? (
        <p>
          <span className="badge bad">unreachable</span> {error}
        </p>
      ) : !health ? (
        <p>
          <span className="badge">checking…</span>
        </p>
      ) : (
        <p>
          <span className={`badge ${ok ? 'good' : 'bad'}`}>{health.status}</span>{' '}
          <code>GET /api/health</code> → {health.httpStatus}
        </p>
      )}
      {health?.body != null && typeof health.body === 'object' && (
        <details>
          <summary>details</summary>
          <pre>{JSON.stringify(health.body, null, 2)}</pre>
        </details>
      )}
    </section>
  );
}

function AuthForm({ onSession }: { onSession: (s: Session) => void }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s =
        mode === 'register' ? await register(username, email, password) : await login(email, password);
      onSession(s);
    } catch (err) {
      if (err instanceof ApiError) {
        const retry =
          err.status === 429 ? ' (too many attempts, try again later)' : '';
        setError(`${err.status}: ${err.message}${retry}`);
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card">
      <div className="tabs">
        <button type="button" className={mode === 'login' ? 'active' : ''} onClick={() => setMode('login')}>
          Sign in
        </button>
        <button
          type="button"
          className={mode === 'register' ? 'active' : ''}
          onClick={() => setMode('register')}
        >
          Register
        </button>
      </div>
      <form onSubmit={submit}>
        {mode === 'register' && (
          <label>
            Username
            <input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="username" />
          </label>
        )}
        <label>
          Email
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
        </label>
        <label>
          Password
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete={mode === 'register' ? 'new-password' : 'current-password'}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? '…' : mode === 'register' ? 'Create account' : 'Sign in'}
        </button>
        {error && <p className="error">{error}</p>}
      </form>
    </section>
  );
}

function ConnRow({ name, conn }: { name: string; conn: ConnState }) {
  const cls = conn.state === 'connected' ? 'good' : conn.state === 'error' ? 'bad' : '';
  return (
    <tr>
      <th>{name}</th>
      <td>
        <span className={`badge ${cls}`}>{conn.state}</span>
      </td>
      <td className="muted">{conn.detail ?? ''}</td>
    </tr>
  );
}

export default function App() {
  const [session, setSessionState] = useState<Session | null>(() => loadSession());
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const refreshing = useRef<Promise<void> | null>(null);

  const setSession = useCallback((s: Session | null) => {
    saveSession(s);
    setSessionState(s);
  }, []);

  /** Swap the refresh token for a new pair (a refresh token works once); sign out if that fails. */
  const tryRefresh = useCallback(() => {
    if (refreshing.current) return refreshing.current;
    const current = sessionRef.current;
    if (!current?.refreshToken) {
      setSession(null);
      return Promise.resolve();
    }
    refreshing.current = refresh(current.refreshToken)
      .then((s) => setSession({ ...s, user: s.user ?? current.user }))
      .catch(() => setSession(null))
      .finally(() => {
        refreshing.current = null;
      });
    return refreshing.current;
  }, [setSession]);

  // On load, check a stored token still works (and pick up role changes).
  const checked = useRef(false);
  useEffect(() => {
    if (checked.current || !session) return;
    checked.current = true;
    me(session.accessToken)
      .then((u) => {
        if (u) setSession({ ...session, user: u });
      })
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) void tryRefresh();
      });
  }, [session, setSession, tryRefresh]);

  const token = session?.accessToken ?? null;
  // A realtime connection was refused: refresh only if the REST API agrees the token is no longer
  // valid (avoids a refresh loop when the refusal has another cause).
  const onAuthError = useCallback(() => {
    const s = sessionRef.current;
    if (!s) return;
    me(s.accessToken).catch((e) => {
      if (e instanceof ApiError && e.status === 401 && sessionRef.current === s) void tryRefresh();
    });
  }, [tryRefresh]);
  const socketState = useSocketIo(token, onAuthError);
  const gqlState = useGraphqlWs(token, onAuthError);

  const signOut = () => {
    const s = sessionRef.current;
    setSession(null);
    if (s) void logout(s.accessToken, s.refreshToken).catch(() => undefined);
  };

  return (
    <div className="page">
      <header>
        <h1>Softchat Realtime</h1>
      </header>
      <main>
        <HealthPanel />
        {!session ? (
          <AuthForm onSession={setSession} />
        ) : (
          <>
            <section className="card">
              <h2>Signed in</h2>
              <table>
                <tbody>
                  <tr>
                    <th>User</th>
                    <td>{session.user.username}</td>
                  </tr>
                  <tr>
                    <th>Email</th>
                    <td>{session.user.email}</td>
                  </tr>
                  <tr>
                    <th>Roles</th>
                    <td>{(session.user.roles ?? []).join(', ') || '—'}</td>
                  </tr>
                  <tr>
                    <th>Id</th>
                    <td>
                      <code>{session.user.id}</code>
                    </td>
                  </tr>
                </tbody>
              </table>
              <button type="button" onClick={signOut}>
                Sign out
              </button>
            </section>
            <section className="card">
              <h2>Realtime</h2>
              <table>
                <tbody>
                  <ConnRow name="Socket.IO" conn={socketState} />
                  <ConnRow name="GraphQL WS" conn={gqlState} />
                </tbody>
              </table>
            </section>
          </>
        )}
      </main>
    </div>
  );
}
