import request from 'supertest';
import { io, Socket } from 'socket.io-client';
import { createClient, Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import type { TestApp } from './app';
import { ADMIN } from './app';

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  roles: string[];
  token: string;
  refreshToken: string;
}

export const http = (t: TestApp | string) => request(typeof t === 'string' ? t : t.url);

let seq = 0;
export async function registerUser(t: TestApp, opts: { role?: 'user' | 'creator'; username?: string } = {}): Promise<TestUser> {
  seq += 1;
  const username = opts.username ?? `u${seq}_${randomBytes(3).toString('hex')}`;
  const email = `${username}@example.test`.toLowerCase();
  const password = 'correct horse battery staple';
  const res = await http(t)
    .post('/api/auth/register')
    .send({ username, email, password, ...(opts.role ? { role: opts.role } : {}) })
    .expect(201);
  return { ...res.body.user, password, token: res.body.accessToken, refreshToken: res.body.refreshToken };
}

export async function loginAdmin(t: TestApp): Promise<TestUser> {
  const res = await http(t).post('/api/auth/login').send(ADMIN).expect(200);
  return { ...res.body.user, password: ADMIN.password, token: res.body.accessToken, refreshToken: res.body.refreshToken };
}

const openSockets = new Set<Socket>();
const openGql = new Set<WsClient>();

/** A connected Socket.IO client (websocket transport), or the connect error. */
export function connectSocket(t: TestApp, token?: string, opts: { transports?: string[] } = {}): Promise<Socket> {
  const socket = io(t.url, {
    auth: token === undefined ? {} : { token },
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 5000,
  });
  openSockets.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Emits with an ack and resolves with the server's answer. */
export function emitAck<T = any>(socket: Socket, event: string, payload?: unknown, timeoutMs = 5000): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}

/** Resolves with the next `event` payload matching `predicate`. */
export function nextEvent<T = any>(socket: Socket, event: string, predicate: (p: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`Timed out waiting for socket event ${event}`));
    }, timeoutMs);
    const handler = (p: T) => {
      if (!predicate(p)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(p);
    };
    socket.on(event, handler);
  });
}

/** Collects `event` payloads until stopped (for asserting that something did NOT arrive). */
export function collect<T = any>(socket: Socket, event: string): { items: T[]; stop(): void } {
  const items: T[] = [];
  const h = (p: T) => items.push(p);
  socket.on(event, h);
  return { items, stop: () => socket.off(event, h) };
}

export function gqlWs(t: TestApp, token?: string): WsClient {
  const client = createClient({
    url: t.url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
  });
  openGql.add(client);
  return client;
}

/**
 * Starts a subscription and resolves once the server has it registered (its first `next`
 * would otherwise race the publish). The returned `next()` waits for the next payload.
 */
export function subscribe<T = any>(client: WsClient, query: string, variables: Record<string, unknown> = {}) {
  const queue: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  let error: unknown;
  let errorWaiters: ((e: unknown) => void)[] = [];
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        const w = waiters.shift();
        if (w) w(v as T);
        else queue.push(v as T);
      },
      error: (e) => {
        error = e;
        errorWaiters.forEach((f) => f(e));
        errorWaiters = [];
      },
      complete: () => undefined,
    },
  );
  return {
    dispose,
    next(timeoutMs = 5000): Promise<T> {
      if (queue.length) return Promise.resolve(queue.shift()!);
      if (error) return Promise.reject(error);
      return new Promise((resolve, reject) => {
        const waiter = (v: T) => {
          clearTimeout(timer);
          resolve(v);
        };
        // A waiter that timed out leaves the queue, so the next payload goes to the next next().
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error('Timed out waiting for a subscription payload'));
        }, timeoutMs);
        waiters.push(waiter);
        errorWaiters.push((e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
    },
    /** Resolves with the error the server ended the subscription with (or rejects on timeout). */
    failure(timeoutMs = 5000): Promise<unknown> {
      if (error) return Promise.resolve(error);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('Subscription did not fail')), timeoutMs);
        errorWaiters.push((e) => {
          clearTimeout(timer);
          resolve(e);
        });
      });
    },
  };
}

/** Polls until the condition holds (for effects that have no event to await, e.g. a Redis subscription becoming active). */
export async function eventually<T>(fn: () => Promise<T> | T, { timeoutMs = 5000, intervalMs = 25 } = {}): Promise<T> {
  const start = Date.now();
  let lastErr: unknown;
  while (Date.now() - start < timeoutMs) {
    try {
      const v = await fn();
      if (v !== false && v !== undefined && v !== null) return v;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw lastErr ?? new Error('Condition not met in time');
}

/**
 * A user's inbox once its newest notification has the given title. Notifications of escrow and
 * payment changes go through the transactional outbox (delivered just after commit), so a test
 * waits for them instead of racing the delivery.
 */
export async function inboxTopped(t: TestApp | string, user: TestUser, title: string): Promise<any[]> {
  return eventually(async () => {
    const items = (await http(t).get(`/api/notifications/${user.id}`).set('authorization', `Bearer ${user.token}`).expect(200)).body.items;
    return items[0]?.title === title ? items : undefined;
  });
}

export async function closeClients() {
  for (const s of openSockets) s.close();
  openSockets.clear();
  await Promise.all([...openGql].map((c) => c.dispose()));
  openGql.clear();
}

export const gql = (t: TestApp, query: string, variables: Record<string, unknown> = {}, token?: string) => {
  const r = http(t).post('/graphql').set('content-type', 'application/json');
  if (token) r.set('authorization', `Bearer ${token}`);
  return r.send({ query, variables });
};

/**
 * Waits until a GraphQL subscription topic has a Redis subscriber (graphql-ws subscribes
 * asynchronously after the client's `subscribe` message), so a publish cannot race it.
 */
export async function waitForGqlSubscriber(t: TestApp, topic: string, count = 1): Promise<void> {
  const Redis = (await import('ioredis')).default;
  const r = new Redis(t.config.redis.url!, { maxRetriesPerRequest: 1 });
  try {
    await eventually(async () => {
      const res = (await r.call('PUBSUB', 'NUMSUB', `${t.prefix}:gql:${topic}`)) as [string, number];
      return Number(res[1]) >= count;
    });
  } finally {
    r.disconnect();
  }
}
