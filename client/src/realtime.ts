import { useEffect, useState } from 'react';
import { io } from 'socket.io-client';
import { createClient } from 'graphql-ws';
import { graphqlWsUrl } from './api';

export interface ConnState {
  state: 'idle' | 'connecting' | 'connected' | 'disconnected' | 'error';
  detail?: string;
}

/** Socket.IO on the same origin (default path /socket.io), authenticated with `auth: { token }`. */
export function useSocketIo(token: string | null, onAuthError?: () => void): ConnState {
  const [conn, setConn] = useState<ConnState>({ state: 'idle' });

  useEffect(() => {
    if (!token) {
      setConn({ state: 'idle' });
      return;
    }
    setConn({ state: 'connecting' });
    const socket = io({ auth: { token }, reconnectionDelayMax: 10_000 });

    socket.on('connect', () => setConn({ state: 'connected', detail: `id ${socket.id}` }));
    socket.on('disconnect', (reason) => {
      setConn({ state: 'disconnected', detail: reason });
    });
    socket.on('connect_error', (err) => {
      setConn({ state: 'error', detail: err.message });
      // A handshake refused by the server's middleware (bad / expired token; it sends
      // `data.code: "UNAUTHORIZED"`) is not retried by socket.io-client: socket.active is false.
      const code = (err as Error & { data?: { code?: string } }).data?.code;
      if (!socket.active && (code === 'UNAUTHORIZED' || /unauthori[sz]ed|token|expired/i.test(err.message))) {
        onAuthError?.();
      }
    });
    socket.io.on('reconnect_attempt', (n) =>
      setConn({ state: 'connecting', detail: `reconnect attempt ${n}` }),
    );

    return () => {
      socket.removeAllListeners();
      socket.io.removeAllListeners();
      socket.disconnect();
    };
    // onAuthError is intentionally not a dependency: reconnect only when the token changes.
  }, [token]);

  return conn;
}

/** graphql-ws (protocol graphql-transport-ws) on ws(s)://<host>/graphql, kept open while signed in. */
export function useGraphqlWs(token: string | null, onAuthError?: () => void): ConnState {
  const [conn, setConn] = useState<ConnState>({ state: 'idle' });

  useEffect(() => {
    if (!token) {
      setConn({ state: 'idle' });
      return;
    }
    let disposed = false;
    const set = (c: ConnState) => {
      if (!disposed) setConn(c);
    };
    set({ state: 'connecting' });

    const client = createClient({
      url: graphqlWsUrl(),
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false, // open the socket now and keep it open, even with no subscription running
      onNonLazyError: () => undefined, // reported through `on.closed` / `on.error` below
      keepAlive: 15_000,
      retryAttempts: Infinity,
      shouldRetry: (e) => {
        const code = (e as { code?: number } | null)?.code;
        return code !== 4401 && code !== 4403;
      },
      on: {
        connecting: () => set({ state: 'connecting' }),
        connected: () => set({ state: 'connected', detail: 'graphql-transport-ws' }),
        closed: (e) => {
          const ev = e as { code?: number; reason?: string } | undefined;
          const code = ev?.code;
          if (code === 4401 || code === 4403) {
            set({ state: 'error', detail: `closed ${code} ${ev?.reason ?? ''}`.trim() });
            if (!disposed) onAuthError?.();
          } else {
            set({ state: 'disconnected', detail: code ? `closed ${code} ${ev?.reason ?? ''}`.trim() : undefined });
          }
        },
        error: (err) => {
          const msg = err instanceof Error ? err.message : 'WebSocket error';
          set({ state: 'error', detail: msg });
        },
      },
    });

    return () => {
      disposed = true;
      // dispose() waits for a pending connect and rejects when that connect was refused.
      Promise.resolve(client.dispose()).catch(() => undefined);
    };
  }, [token]);

  return conn;
}
