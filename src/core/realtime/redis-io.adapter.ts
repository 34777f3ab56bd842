import { INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { AppConfig } from '../config/config';
import { RedisService } from '../redis/redis.service';
import { TokenService } from '../auth/token.service';
import { DomainError } from '../http/domain-error';
import { RealtimePublisher } from './realtime.publisher';
import { sessionRoom, userRoom } from './events';

/**
 * Socket.IO server with: the Redis adapter (fan-out across instances), JWT authentication
 * at the handshake (`auth.token`), each socket in its user's room, and a per-socket event
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

    server.use(async (socket: Socket, next) => {
      try {
        const raw = socket.handshake.auth?.token ?? TokenService.bearer(socket.handshake.headers.authorization);
        const token = typeof raw === 'string' ? raw.replace(/^Bearer\s+/i, '') : undefined;
        const user = await tokens.verify(token);
        socket.data.user = user;
        await socket.join([userRoom(user.id), sessionRoom(user.sessionId)]);
        socket.use(([event, ...args], nextPacket) => {
          limiter.consume(socket.id).then(
            () => nextPacket(),
            () => {
              const ack = args[args.length - 1];
              if (typeof ack === 'function') {
                ack({ ok: false, error: { code: 'RATE_LIMITED', message: `Too many events; slow down (${String(event)} dropped)` } });
              }
            },
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
    tokens.onRevoke = (sessionIds) => publisher.disconnectSessions(sessionIds, 'Signed out');
    this.logger.log('Socket.IO ready with the Redis adapter');
    return server;
  }
}
