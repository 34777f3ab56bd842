import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import depthLimit from 'graphql-depth-limit';
import type { Context as WsContext } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { AppConfig } from '../config/config';
import { TokenService } from '../auth/token.service';
import type { AuthUser } from '../auth/auth-user';
import { complexityPlugin, maxAliasesRule } from './limits';

export interface GqlContext {
  req?: Request & { user?: AuthUser };
  res?: Response;
  /** Set for subscriptions over graphql-ws, authenticated at connection time. */
  user?: AuthUser;
}

type WsExtra = { socket: WebSocket; request: unknown; user?: AuthUser };

const logger = new Logger('GraphQL');

export function graphqlOptions(config: AppConfig, tokens: TokenService): ApolloDriverConfig {
  return {
    driver: ApolloDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    playground: false,
    graphiql: config.graphql.playground,
    introspection: true,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    validationRules: [depthLimit(config.graphql.maxDepth), maxAliasesRule(config.graphql.maxAliases)],
    plugins: [complexityPlugin(config.graphql.maxCost)],
    context: ({ req, res }: { req: Request; res: Response }): GqlContext => ({ req: req as GqlContext['req'], res }),
    formatError: (formatted, error) => {
      const original = (error as { originalError?: unknown })?.originalError;
      const code = formatted.extensions?.code;
      if (code === 'INTERNAL_SERVER_ERROR' && original && !(original as { extensions?: unknown }).extensions) {
        logger.error({ err: original }, 'Unexpected GraphQL error');
        return { message: 'Internal server error', extensions: { code: 'INTERNAL', statusCode: 500 }, path: formatted.path };
      }
      if (code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_USER_INPUT' || code === 'GRAPHQL_PARSE_FAILED') {
        return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_REQUEST', statusCode: 400 } };
      }
      const { stacktrace: _s, ...ext } = (formatted.extensions ?? {}) as Record<string, unknown>;
      return { ...formatted, extensions: ext };
    },
    subscriptions: {
      'graphql-ws': {
        path: '/graphql',
        connectionInitWaitTimeout: 10_000,
        onConnect: async (ctx: WsContext<Record<string, unknown>, WsExtra>) => {
          const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization ?? ctx.connectionParams?.token;
          const token = typeof raw === 'string' ? raw.replace(/^Bearer\s+/i, '').trim() : undefined;
          try {
            ctx.extra.user = await tokens.verify(token);
            return true;
          } catch (e) {
            // 4401 says "authenticate first"; graphql-ws itself only knows 4403 (return false).
            ctx.extra.socket.close(4401, (e as Error).message?.slice(0, 100) || 'Unauthorized');
            return false;
          }
        },
        context: (ctx: WsContext<Record<string, unknown>, WsExtra>): GqlContext => ({ user: ctx.extra.user }),
      },
    },
  } as ApolloDriverConfig;
}
