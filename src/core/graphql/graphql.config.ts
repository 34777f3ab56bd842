import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/config';
import type { AuthUser } from '../auth/auth-user';
import { graphqlLimits } from './limits';

export interface GqlContext {
  req?: FastifyRequest & { user?: AuthUser };
  res?: FastifyReply;
  /** Set for operations over graphql-ws (see ws-server.ts), re-checked before each one. */
  user?: AuthUser;
  /** The client's address for operations over graphql-ws (HTTP uses `req.ip`). */
  ip?: string;
}

const logger = new Logger('GraphQL');

/**
 * Apollo over HTTP. GraphQL over WebSocket is served by GqlWsServer (ws-server.ts) with the
 * same limits (graphqlLimits), so no `subscriptions` here.
 */
export function graphqlOptions(config: AppConfig): ApolloDriverConfig {
  const limits = graphqlLimits(config);
  return {
    driver: ApolloDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    playground: false,
    graphiql: config.graphql.playground,
    introspection: true,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: limits.validationRules,
    plugins: limits.plugins,
    // Apollo's Fastify integration calls the context function with (request, reply).
    context: (request: FastifyRequest, reply: FastifyReply): GqlContext => ({ req: request as GqlContext['req'], res: reply }),
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
  } as ApolloDriverConfig;
}
