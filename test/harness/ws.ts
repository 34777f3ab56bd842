import { createClient, Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Socket } from 'socket.io-client';
import type { TestApp } from './app';

/** A graphql-ws client that remembers how the server closed it. */
export interface TrackedGqlClient {
  client: WsClient;
  /** Resolves once the connection is acknowledged (rejects if it is closed first). */
  connected: Promise<void>;
  /** Resolves with the close code and reason the server sent. */
  closed: Promise<{ code: number; reason: string }>;
  /** One query or mutation over this connection: `{ data?, errors? }`. */
  run<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: any[] }>;
  dispose(): Promise<void>;
}

const open = new Set<WsClient>();

export function trackedGqlWs(t: TestApp | string, token: string): TrackedGqlClient {
  let onClosed!: (e: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (onClosed = r));
  let onConnected!: () => void;
  let onFailed!: (e: unknown) => void;
  const connected = new Promise<void>((res, rej) => {
    onConnected = res;
    onFailed = rej;
  });
  const base = typeof t === 'string' ? t : t.url;
  const client = createClient({
    url: base.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: {
      connected: () => onConnected(),
      closed: (e) => {
        const ev = e as { code: number; reason: string };
        onClosed({ code: ev.code, reason: String(ev.reason ?? '') });
        onFailed(new Error(`closed ${ev.code} before the connection was acknowledged`));
      },
    },
  });
  open.add(client);
  const run = <T>(query: string, variables: Record<string, unknown> = {}) =>
    new Promise<{ data?: T; errors?: any[] }>((resolve) => {
      let result: { data?: T; errors?: any[] } = {};
      client.subscribe<T>(
        { query, variables },
        {
          next: (v) => (result = v as { data?: T; errors?: any[] }),
          error: (e) => resolve({ errors: Array.isArray(e) ? e : [e] }),
          complete: () => resolve(result),
        },
      );
    });
  return { client, connected, closed, run, dispose: () => Promise.resolve(client.dispose()) };
}

export async function closeTrackedClients() {
  await Promise.all([...open].map((c) => c.dispose()));
  open.clear();
}

/** Resolves when the Socket.IO client is disconnected, with the reason. */
export function disconnected(socket: Socket): Promise<string> {
  if (!socket.connected) return Promise.resolve('already disconnected');
  return new Promise((r) => socket.once('disconnect', (reason) => r(reason)));
}
