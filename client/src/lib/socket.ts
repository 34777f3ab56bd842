import { useEffect, useRef } from 'react';
import { io, type Socket } from 'socket.io-client';
import { getAccessToken, onTokens, refreshTokens } from './tokens';
import { setChannel } from './connection';

/**
 * One Socket.IO connection for the signed-in session (same origin, default path). The token is read
 * on every (re)connect through the `auth` callback; after a refresh the socket reconnects with the
 * new one; a handshake refused for the token refreshes once and tries again.
 */
let socket: Socket | null = null;
let connectedOnce = false;

function create(): Socket {
  const s = io({
    auth: (cb) => cb({ token: getAccessToken() ?? '' }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 10_000,
    transports: ['websocket', 'polling'],
  });
  setChannel('socket', 'connecting');
  s.on('connect', () => {
    connectedOnce = true;
    setChannel('socket', 'connected');
  });
  s.on('disconnect', (reason) => {
    setChannel('socket', 'reconnecting');
    // The server dropped us (e.g. the token expired, session signed out): not retried by the client itself.
    if (reason === 'io server disconnect') void reauth();
  });
  s.io.on('reconnect_attempt', () => setChannel('socket', 'reconnecting'));
  s.on('connect_error', (err) => {
    setChannel('socket', connectedOnce ? 'reconnecting' : 'connecting');
    // A refused handshake is not retried by socket.io-client (socket.active is false).
    if (!s.active) void reauth();
    void err;
  });
  return s;
}

async function reauth() {
  const stale = getAccessToken();
  if (!stale || !socket) return;
  try {
    const next = await refreshTokens(stale);
    if (next && socket) socket.connect();
  } catch {
    // Refresh unreachable (offline): try again in a while.
    setTimeout(() => socket && !socket.connected && socket.connect(), 3000);
  }
}

onTokens((t, reason) => {
  if (!t) {
    socket?.removeAllListeners();
    socket?.io.removeAllListeners();
    socket?.disconnect();
    socket = null;
    connectedOnce = false;
    setChannel('socket', 'idle');
  } else if (reason === 'refresh' && socket) {
    // Reconnect so the server authorises this socket with the new token.
    socket.disconnect().connect();
  } else if (reason === 'signin' && socket) {
    socket.disconnect().connect();
  }
});

/** The app's socket (created on first use while signed in). */
export function getSocket(): Socket {
  if (!socket) socket = create();
  return socket;
}

/** Listen to a server event while the component is mounted; the latest handler is always used. */
export function useSocketEvent<T = unknown>(event: string, handler: (payload: T) => void, enabled = true) {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!enabled || !getAccessToken()) return;
    const s = getSocket();
    const fn = (p: T) => ref.current(p);
    s.on(event, fn);
    return () => {
      s.off(event, fn);
    };
  }, [event, enabled]);
}

export class AckError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AckError';
  }
}

/** Emits with an ack and resolves its `data` (`{ok:true,data}`), rejecting on `{ok:false,error}` or a timeout. */
export function emitAck<T = unknown>(event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
  const s = getSocket();
  return new Promise<T>((resolve, reject) => {
    s.timeout(timeoutMs).emit(event, payload, (err: Error | null, res: { ok: boolean; data?: T; error?: { code: string; message: string } }) => {
      if (err) return reject(new AckError('TIMEOUT', `${event}: no answer from the server`));
      if (res && res.ok) return resolve(res.data as T);
      reject(new AckError(res?.error?.code ?? 'ERROR', res?.error?.message ?? `${event} refused`));
    });
  });
}
