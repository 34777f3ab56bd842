import { INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { lastValueFrom, type Observable } from 'rxjs';
import { createAdapter } from '@socket.io/redis-adapter';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { AppConfig } from '../config/config';
import { RedisService } from '../redis/redis.service';
import { TokenService } from '../auth/token.service';
import { SessionEvents, onRolesChanged } from '../auth/session-events';
import { DomainError } from '../http/domain-error';
import type { AuthUser } from '../auth/auth-user';
import { RealtimePublisher } from './realtime.publisher';
import { sessionRoom, userRoom } from './events';

/** setTimeout takes at most 2^31-1 ms; a later deadline is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Disconnects the socket when its access token expires (the client reconnects with a fresh one). */
function expireAt(socket: Socket, at: number) {
  const wait = at - Date.now();
  if (wait <= 0) {
    socket.emit('session_revoked', { reason: 'Access token expired' });
    socket.disconnect(true);
    return;
  }
  const timer = setTimeout(() => expireAt(socket, at), Math.min(wait, MAX_TIMER_MS));
  timer.unref();
  socket.once('disconnect', () => clearTimeout(timer));
}

/**
 * Socket.IO server with: the Redis adapter (fan-out across instances), JWT authentication
 * at the handshake (`auth.token`), each socket in its user's and session's rooms, disconnected
 * when its token expires or its session is revoked or roles change, and a per-socket event
 * rate limit (a flood is refused through the ack and dropped, the socket stays usable).
 */
export class RedisIoAdapter extends IoAdapter {
  private readonly logger = new Logger('Socket.IO');

  constructor(
    private readonly nest: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(nest);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server: Server = super.createIOServer(port, {
      ...options,
      cors: { origin: this.config.corsOrigins.includes('*') ? true : this.config.corsOrigins, credentials: true },
      maxHttpBufferSize: 100_000,
      pingInterval: 20_000,
      pingTimeout: 20_000,
    });
    const redis = this.nest.get(RedisService);
    const tokens = this.nest.get(TokenService);
    const pub = redis.create('socket.io-pub', { enableAutoPipelining: true });
    const sub = redis.create('socket.io-sub');
    server.adapter(createAdapter(pub, sub, { key: `${this.config.redis.prefix}:socket.io` }));

    const limiter = new RateLimiterMemory({
      points: this.config.throttle.socketBurst,
      duration: Math.max(1, Math.ceil(this.config.throttle.socketBurst / this.config.throttle.socketEventsPerSecond)),
    });

    /**
     * The next event after a revocation or role change whose announcement this instance missed
     * is refused (and the socket closed), like a graphql-ws operation; checked at most every
     * SOCKET_RECHECK_MS per socket, so a chatty socket costs one Redis read a second.
     */
    const stillAllowed = async (socket: Socket): Promise<string | null> => {
      if (Date.now() - socket.data.checkedAt < this.config.socketRecheckMs) return null;
      const user = socket.data.user as AuthUser;
      const r = await tokens.recheckLive(socket.data.claims, user.roles);
      if (!r.ok) return r.reason;
      socket.data.user = { ...user, roles: r.roles };
      socket.data.claims = r.claims;
      socket.data.checkedAt = Date.now();
      return null;
    };

    server.use(async (socket: Socket, next) => {
      try {
        const raw = socket.handshake.auth?.token ?? TokenService.bearer(socket.handshake.headers.authorization);
        const token = typeof raw === 'string' ? raw.replace(/^Bearer\s+/i, '') : undefined;
        const { user, payload } = await tokens.verifyFull(token);
        socket.data.user = user;
        socket.data.claims = payload;
        socket.data.checkedAt = Date.now();
        expireAt(socket, payload.exp * 1000);
        await socket.join([userRoom(user.id), sessionRoom(user.sessionId)]);
        socket.use(([event, ...args], nextPacket) => {
          const ack = args[args.length - 1];
          const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : undefined;
          limiter.consume(socket.id).then(
            () =>
              stillAllowed(socket).then(
                (refused) => {
                  if (!refused) return nextPacket();
                  reply?.({ ok: false, error: { code: 'UNAUTHORIZED', message: refused } });
                  socket.emit('session_revoked', { reason: refused });
                  socket.disconnect(true);
                },
                () => reply?.({ ok: false, error: { code: 'INTERNAL', message: 'Could not check the session; try again' } }),
              ),
            () => reply?.({ ok: false, error: { code: 'RATE_LIMITED', message: `Too many events; slow down (${String(event)} dropped)` } }),
          );
        });
        next();
      } catch (e) {
        const message = e instanceof DomainError ? e.message : 'Authentication failed';
        const err = new Error(message) as Error & { data?: unknown };
        err.data = { code: 'UNAUTHORIZED', message };
        next(err);
      }
    });

    const publisher = this.nest.get(RealtimePublisher);
    publisher.attach(server);
    // Every instance hears every revocation and role change and ends its own sockets: rights
    // never outlive what a REST call would still be allowed (contract §2).
    this.nest.get(SessionEvents).on((e) => {
      if (e.type === 'sessions-revoked') {
        const rooms = e.sessionIds.map(sessionRoom);
        if (!rooms.length) return;
        server.local.to(rooms).emit('session_revoked', { reason: e.reason });
        server.local.in(rooms).disconnectSockets(true);
        return;
      }
      void server
        .local.in(userRoom(e.userId))
        .fetchSockets()
        .then((sockets) => {
          for (const s of sockets) {
            const user = s.data.user as AuthUser;
            const action = onRolesChanged({ roles: user.roles, tokenVersion: s.data.claims.tv ?? 0 }, e);
            if (action === 'close') {
              s.emit('session_revoked', { reason: e.reason });
              s.disconnect(true);
            } else if (action === 'refresh') {
              s.data.user = { ...user, roles: e.roles };
              s.data.claims = { ...s.data.claims, roles: e.roles, tv: e.tokenVersion };
            }
          }
        });
    });
    this.logger.log('Socket.IO ready with the Redis adapter');
    return server;
  }

  /**
   * One plain listener per handler per socket, instead of IoAdapter's per-socket rxjs pipeline
   * (`fromEvent` → `mergeMap` → `takeUntil(disconnect$)` and a subscription, for every
   * `@SubscribeMessage` of every gateway on every socket). That pipeline kept ~85 % of an idle
   * socket's ~100 KiB on the heap (bench/idle-sockets sampling heap profile); the listeners here
   * go with the socket, and per message the work is the same: run the handler (Nest's guards,
   * pipes and filters are inside `callback`), then emit `{event,data}` results or ack the rest.
   * Hand-written because this is the adapter's own extension point; no library provides it.
   */
  override bindMessageHandlers(
    socket: Parameters<IoAdapter['bindMessageHandlers']>[0],
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(String(message), (...args: unknown[]) => {
        const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args);
        // `transform` turns the handler's value/promise/observable into an observable of results;
        // the gateways here answer once, so the last value is the answer (none: no reply).
        lastValueFrom(transform(callback(data, ack)), { defaultValue: undefined }).then(
          (response) => {
            if (response === undefined || response === null) return;
            const r = response as { event?: string; data?: unknown };
            if (r.event) {
              socket.emit(r.event, r.data);
              return;
            }
            if (!isAckHandledManually && typeof ack === 'function') (ack as (v: unknown) => void)(response);
          },
          (err: unknown) => this.logger.error({ err }, `unhandled error in the "${String(message)}" handler`),
        );
      });
    }
  }
}
