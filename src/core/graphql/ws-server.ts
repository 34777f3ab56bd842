import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { ExecutionArgs, GraphQLError } from 'graphql';
import type { Context, SubscribePayload } from 'graphql-ws';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { WebSocketServer, WebSocket } from 'ws';
import { APP_CONFIG, AppConfig } from '../config/config';
import { TokenService } from '../auth/token.service';
import { DomainError } from '../http/domain-error';
import { RedisService } from '../redis/redis.service';
import { MetricsService } from '../observability/metrics.service';
import { graphqlLimits, GraphqlLimits, parseAndValidate } from './limits';
import { SharedExecution } from './shared-execution';
import { WS_GOING_AWAY, WS_UNAUTHORIZED, WsConnection, WsConnections } from './ws-connections';
import type { GqlContext } from './graphql.config';

// Loaded with require: the package exposes `use/ws` only through `exports`, which this
// project's CommonJS module resolution does not read for types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { useServer } = require('graphql-ws/use/ws') as {
  useServer: (options: Record<string, unknown>, wss: WebSocketServer) => { dispose(): Promise<void> | void };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxyaddr = require('proxy-addr') as ((req: IncomingMessage, trust: unknown) => string) & { compile(v: string[]): unknown };

type Extra = { socket: WebSocket; request: IncomingMessage; conn?: WsConnection };
type WsCtx = Context<Record<string, unknown> | undefined, Extra>;

/**
 * GraphQL over WebSocket (`graphql-transport-ws`, the graphql-ws library) on `/graphql`, run
 * here rather than by @nestjs/graphql so that it gets every limit the HTTP path has:
 * - a bounded frame (`maxPayload`, a bigger frame closes with 1009);
 * - the token checked at `connection_init` AND before every operation (signed out, roles
 *   changed, expired → closed with 4401), and closed by WsConnections on revocation and at `exp`;
 * - at most GRAPHQL_WS_MAX_OPERATIONS operations at once per connection;
 * - a per-user operation rate limit shared by all connections and instances (Redis);
 * - the same parse (token) and validation (depth, aliases, cost, directives, introspection)
 *   rules as Apollo on the HTTP path.
 * Subscriptions are executed once per event and sharing key and serialised once
 * (SharedExecution, GRAPHQL_SHARED_EXECUTION); none of the checks above runs per delivery.
 */
@Injectable()
export class GqlWsServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('GraphQL-WS');
  private readonly limits: GraphqlLimits;
  private readonly limiter: RateLimiterRedis;
  private readonly trust: unknown;
  private wss?: WebSocketServer;
  private disposable?: { dispose(): Promise<void> | void };
  private http?: HttpServer;
  /** Set at bootstrap when GRAPHQL_SHARED_EXECUTION is on. */
  shared?: SharedExecution;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head);

  constructor(
    private readonly tokens: TokenService,
    private readonly connections: WsConnections,
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.limits = graphqlLimits(config);
    this.limiter = new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix: redis.key('gql-ws-ops'),
      points: config.throttle.graphqlWsOperations,
      duration: config.throttle.graphqlWsWindowSeconds,
    });
    this.trust = proxyaddr.compile(config.trustProxy.split(',').map((s) => s.trim()).filter(Boolean));
  }

  onApplicationBootstrap() {
    const schema = this.moduleRef.get(GraphQLSchemaHost, { strict: false }).schema;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.config.graphql.wsMaxPayloadBytes });
    if (this.config.graphql.sharedExecution) {
      this.shared = new SharedExecution(schema, this.metrics.registry, (m) => this.logger.warn(m));
    }
    this.disposable = useServer(
      {
        schema,
        connectionInitWaitTimeout: 10_000,
        onConnect: (ctx: WsCtx) => this.onConnect(ctx),
        onSubscribe: (ctx: WsCtx, id: string, payload: SubscribePayload) => this.onSubscribe(ctx, id, payload, schema),
        context: (ctx: WsCtx): GqlContext => ({ user: ctx.extra.conn?.user, ip: ctx.extra.conn?.ip }),
        ...(this.shared ? { subscribe: this.shared.subscribe } : {}),
      },
      this.wss,
    );
    this.http = this.adapterHost.httpAdapter.getHttpServer() as HttpServer;
    this.http.on('upgrade', this.onUpgrade);
  }

  /**
   * Shutdown: no new connections; this instance's are closed so clients reconnect elsewhere.
   * In the first shutdown phase, while Redis is still open for the subscriptions to unsubscribe.
   */
  async onModuleDestroy() {
    this.http?.off('upgrade', this.onUpgrade);
    this.connections.closeAll(WS_GOING_AWAY, 'Server shutting down');
    await this.disposable?.dispose();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const path = (req.url ?? '').split('?')[0];
    if ((path !== '/graphql' && path !== '/graphql/') || !this.wss) return; // Socket.IO handles its own path.
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wss!.emit('connection', ws, req);
      // graphql-ws logs every socket error with console.error: a client's oversized frame would
      // be a log flood. ws closes the socket itself for protocol errors (1009 for size).
      ws.removeAllListeners('error');
      ws.on('error', (err) => {
        this.logger.debug(`graphql-ws socket error: ${err.message}`);
        if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'Internal server error');
      });
    });
  }

  private async onConnect(ctx: WsCtx): Promise<boolean> {
    const params = ctx.connectionParams ?? {};
    const raw = params.authorization ?? params.Authorization ?? params.token;
    const token = typeof raw === 'string' ? raw.replace(/^Bearer\s+/i, '').trim() : undefined;
    try {
      const { user, payload } = await this.tokens.verifyFull(token);
      const conn: WsConnection = { socket: ctx.extra.socket, user, claims: payload, ip: this.ipOf(ctx.extra.request) };
      ctx.extra.conn = conn;
      this.connections.add(conn);
      return true;
    } catch (e) {
      // 4401 says "authenticate first"; graphql-ws itself only knows 4403 (return false).
      ctx.extra.socket.close(WS_UNAUTHORIZED, ((e as Error).message || 'Unauthorized').slice(0, 100));
      return false;
    }
  }

  private async onSubscribe(ctx: WsCtx, id: string, payload: SubscribePayload, schema: ExecutionArgs['schema']) {
    // Counted before any await: operations that arrive together are all already registered
    // in ctx.subscriptions (this one included), and each must see only those before it.
    const max = this.config.graphql.wsMaxOperations;
    if (Object.keys(ctx.subscriptions).length > max) {
      return [gqlError(new DomainError('RATE_LIMITED', `Too many concurrent operations on this connection (at most ${max})`))];
    }
    const conn = ctx.extra.conn;
    if (!conn) {
      ctx.extra.socket.close(WS_UNAUTHORIZED, 'Unauthorized');
      return [gqlError(new DomainError('UNAUTHORIZED', 'Unauthorized'))];
    }
    const refused = await this.recheck(conn);
    if (refused) {
      conn.socket.close(WS_UNAUTHORIZED, refused.slice(0, 100));
      return [gqlError(new DomainError('UNAUTHORIZED', refused))];
    }
    try {
      await this.limiter.consume(conn.user.id);
    } catch (r) {
      if (r instanceof Error) throw r;
      const retry = Math.max(1, Math.ceil((r as RateLimiterRes).msBeforeNext / 1000));
      return [gqlError(new DomainError('RATE_LIMITED', 'Too many GraphQL operations; slow down', { retryAfterSeconds: retry }, retry))];
    }
    const checked = parseAndValidate(schema, payload.query, this.limits);
    if ('errors' in checked) return checked.errors;
    const args: ExecutionArgs = {
      schema,
      document: checked.document,
      operationName: payload.operationName ?? undefined,
      variableValues: payload.variables ?? undefined,
    };
    this.shared?.register(args, { socket: conn.socket, id, query: payload.query });
    return args;
  }

  /** The connection's session, token version and expiry, checked again before each operation. */
  private async recheck(conn: WsConnection): Promise<string | null> {
    const r = await this.tokens.recheckLive(conn.claims, conn.user.roles);
    if (!r.ok) return r.reason;
    if (r.claims !== conn.claims) {
      conn.user = { ...conn.user, roles: r.roles };
      conn.claims = r.claims;
    }
    return null;
  }

  private ipOf(req: IncomingMessage): string {
    try {
      return proxyaddr(req, this.trust);
    } catch {
      return req.socket.remoteAddress ?? 'unknown';
    }
  }
}

function gqlError(e: DomainError): GraphQLError {
  return new GraphQLError(e.message, {
    extensions: { code: e.code, statusCode: e.status, ...(e.details ? { details: e.details } : {}) },
  });
}
