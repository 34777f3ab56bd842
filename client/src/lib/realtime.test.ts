import { afterEach, describe, expect, it, vi } from 'vitest';

// Stand-ins for the two transport libraries: we check what our code asks of them.
const ws = vi.hoisted(() => ({ options: null as null | Record<string, any>, socket: { readyState: 1, close: vi.fn() } }));
vi.mock('graphql-ws', () => ({
  createClient: (options: Record<string, unknown>) => {
    ws.options = options;
    return { subscribe: vi.fn(() => () => undefined), dispose: vi.fn(), terminate: vi.fn(), on: vi.fn() };
  },
}));
const sio = vi.hoisted(() => ({ created: 0, handlers: {} as Record<string, (...a: any[]) => void>, auth: null as any, reconnects: 0, ack: null as any }));
vi.mock('socket.io-client', () => ({
  io: (opts: { auth: unknown }) => {
    sio.created += 1;
    sio.auth = opts.auth;
    const socket: any = {
      active: true,
      connected: true,
      on: (ev: string, fn: any) => ((sio.handlers[ev] = fn), socket),
      off: () => socket,
      io: { on: () => undefined, removeAllListeners: () => undefined },
      removeAllListeners: () => undefined,
      disconnect: () => socket,
      connect: () => ((sio.reconnects += 1), socket),
      timeout: () => ({ emit: (_ev: string, _payload: unknown, cb: (err: Error | null, res: unknown) => void) => cb(null, sio.ack) }),
    };
    return socket;
  },
}));

import { createGraphqlClient } from './graphql';
import { emitAck, getSocket } from './socket';
import { getChannels } from './connection';
import { setTokens } from './tokens';

const user = { id: 'u1', username: 'alice', email: 'a@x.test', roles: ['user'] };

afterEach(() => setTokens(null));

describe('graphql-ws connection', () => {
  it('sends the current token on every connect and restarts (4205) after a refresh', async () => {
    setTokens({ accessToken: 'access-1', refreshToken: 'r1', user }, 'signin');
    const { dispose } = createGraphqlClient();
    const o = ws.options!;
    expect(await o.connectionParams()).toEqual({ authorization: 'Bearer access-1' });
    o.on.connected(ws.socket);
    expect(getChannels().graphql).toBe('connected');

    setTokens({ accessToken: 'access-2', refreshToken: 'r2', user }, 'refresh');
    expect(ws.socket.close).toHaveBeenCalledWith(4205, 'Client Restart');
    expect(await o.connectionParams()).toEqual({ authorization: 'Bearer access-2' });
    // It keeps retrying while signed in.
    expect(o.shouldRetry()).toBe(true);
    dispose();
  });

  it('a 4401 close triggers a refresh; a reconnect after a drop shows as reconnecting', async () => {
    setTokens({ accessToken: 'access-1', refreshToken: 'r1', user }, 'signin');
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ accessToken: 'access-9', refreshToken: 'r9', user }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const { dispose } = createGraphqlClient();
    const o = ws.options!;
    o.on.connected(ws.socket);
    o.on.closed({ code: 4401 });
    expect(getChannels().graphql).toBe('reconnecting');
    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalledWith('/api/auth/refresh', expect.anything()));
    await vi.waitFor(async () => expect(await o.connectionParams()).toEqual({ authorization: 'Bearer access-9' }));
    vi.unstubAllGlobals();
    dispose();
  });
});

describe('Socket.IO', () => {
  it('authenticates with the current token and reconnects after a refresh', () => {
    setTokens({ accessToken: 'access-1', refreshToken: 'r1', user }, 'signin');
    getSocket();
    let sent: unknown;
    sio.auth((a: unknown) => (sent = a));
    expect(sent).toEqual({ token: 'access-1' });
    const before = sio.reconnects;
    setTokens({ accessToken: 'access-2', refreshToken: 'r2', user }, 'refresh');
    expect(sio.reconnects).toBe(before + 1);
    sio.auth((a: unknown) => (sent = a));
    expect(sent).toEqual({ token: 'access-2' });
  });

  it('emitAck resolves data and rejects {ok:false} with its code', async () => {
    setTokens({ accessToken: 'access-1', refreshToken: 'r1', user }, 'signin');
    sio.ack = { ok: true, data: { joined: true } };
    await expect(emitAck('join_room', { roomId: 'r' })).resolves.toEqual({ joined: true });
    sio.ack = { ok: false, error: { code: 'FORBIDDEN', message: 'Not a member' } };
    await expect(emitAck('join_room', { roomId: 'r' })).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'Not a member' });
  });
});
