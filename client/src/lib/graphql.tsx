import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { Client, Provider, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { getAccessToken, getTokens, onTokens, refreshTokens } from './tokens';
import { setChannel } from './connection';

/** ws(s)://<this host>/graphql: same origin as the page, like every other call. */
function wsUrl(): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}/graphql`;
}

function isUnauthenticated(body: unknown): boolean {
  const errors = (body as { errors?: { extensions?: { code?: string; statusCode?: number } }[] } | null)?.errors;
  return !!errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED' || e.extensions?.code === 'UNAUTHORIZED' || e.extensions?.statusCode === 401);
}

/** fetch for urql: bearer token, and one refresh + retry when the server says the token is no longer good. */
async function authedFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const go = (token: string | null) => {
    const headers = new Headers(init.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const token = getAccessToken();
  const res = await go(token);
  if (!token) return res;
  let expired = res.status === 401;
  if (!expired && res.ok) {
    try {
      expired = isUnauthenticated(await res.clone().json());
    } catch {
      /* not JSON: hand it to urql as it is */
    }
  }
  if (!expired) return res;
  const next = await refreshTokens(token);
  return next ? go(next.accessToken) : res;
}

/**
 * graphql-ws with the current token in connectionParams (read on every connect), retried forever
 * with graphql-ws's randomised exponential backoff. After a token refresh the socket is closed with
 * 4205 ("client restart"): graphql-ws reconnects with the new token and resubscribes every active
 * subscription. A close with 4401/4403 refreshes first; if that fails the session is over.
 */
function createWs(): { ws: WsClient; restart: () => void } {
  let socket: WebSocket | null = null;
  let restartRequested = false;
  let connectedOnce = false;
  const ws = createWsClient({
    url: wsUrl(),
    lazy: false,
    onNonLazyError: () => undefined,
    keepAlive: 15_000,
    retryAttempts: Number.MAX_SAFE_INTEGER,
    // Exponential backoff with jitter: 0.3 s, 0.6 s, 1.2 s … capped at 10 s (a restart after a refresh is quick).
    retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(10_000, 300 * 2 ** retries) + Math.random() * 300)),
    shouldRetry: () => getAccessToken() !== null,
    connectionParams: async () => {
      const token = getAccessToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      connecting: () => setChannel('graphql', connectedOnce ? 'reconnecting' : 'connecting'),
      connected: (s) => {
        socket = s as WebSocket;
        connectedOnce = true;
        setChannel('graphql', 'connected');
        if (restartRequested) {
          restartRequested = false;
          restart();
        }
      },
      closed: (e) => {
        socket = null;
        const code = (e as CloseEvent | undefined)?.code;
        setChannel('graphql', getAccessToken() ? 'reconnecting' : 'idle');
        if (code === 4401 || code === 4403) void refreshTokens(getAccessToken()).catch(() => undefined);
      },
    },
  });
  const restart = () => {
    if (socket?.readyState === WebSocket.OPEN) socket.close(4205, 'Client Restart');
    else restartRequested = true; // connecting now: restart as soon as it is up
  };
  return { ws, restart };
}

export function createGraphqlClient(): { client: Client; dispose: () => void } {
  const { ws, restart } = createWs();
  const stop = onTokens((t, reason) => {
    if (t && reason === 'refresh') restart();
  });
  const client = new Client({
    url: '/graphql',
    fetch: authedFetch,
    // POST with a JSON body: Apollo's CSRF prevention refuses simple GET requests without a preflight header.
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return {
    client,
    dispose: () => {
      stop();
      setChannel('graphql', 'idle');
      void Promise.resolve(ws.dispose()).catch(() => undefined);
    },
  };
}

// One client per signed-in user, kept at module level (not in React state) so StrictMode's double
// renders never open a second WebSocket; it is disposed when the user signs out or changes.
let active: { userId: string; made: ReturnType<typeof createGraphqlClient> } | null = null;
function clientFor(userId: string | null): Client | null {
  if (active && active.userId !== userId) {
    active.made.dispose();
    active = null;
  }
  if (!userId) return null;
  if (!active) active = { userId, made: createGraphqlClient() };
  return active.made.client;
}
onTokens((t) => void clientFor(t?.user.id ?? null));

const anonymous = new Client({ url: '/graphql', preferGetMethod: false, exchanges: [cacheExchange, fetchExchange] });

/** One urql client (and one graphql-ws connection) per signed-in session. */
export function GraphqlProvider({ children }: { children: ReactNode }) {
  const [userKey, setUserKey] = useState(() => getTokens()?.user.id ?? null);
  useEffect(() => onTokens((t) => setUserKey(t?.user.id ?? null)), []);
  const client = useMemo(() => clientFor(userKey) ?? anonymous, [userKey]);
  return <Provider value={client}>{children}</Provider>;
}
