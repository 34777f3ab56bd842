import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, GraphQLError, GraphQLSchema, ValidationRule, parse, specifiedRules, validate } from 'graphql';
import { AppConfig } from '../config/config';

export interface GraphqlLimits {
  /** Apollo (HTTP) plugins: masked field suggestions. */
  plugins: ApolloServerPlugin[];
  /** Validation rules shared by both transports (on top of graphql-js's specifiedRules): depth, aliases, cost, directives. */
  validationRules: ValidationRule[];
  maxTokens: number;
}

/**
 * One set of limits for GraphQL over HTTP and over WebSocket, from graphql-armor (depth,
 * aliases, cost, tokens, directives). Depth and cost skip introspection, so the standard
 * introspection query every tool sends (deeper than any app query) keeps working; a looping
 * one (`fields { type { fields ... } }`) is refused by graphql-js's own
 * MaxIntrospectionDepthRule, part of `specifiedRules` on both transports.
 */
export function graphqlLimits(config: AppConfig): GraphqlLimits {
  const g = config.graphql;
  const armor = new ApolloArmor({
    maxDepth: { n: g.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: g.maxAliases },
    costLimit: { maxCost: g.maxCost, ignoreIntrospection: true },
    maxDirectives: { n: g.maxDirectives },
    // Tokens are limited by graphql-js's own parser (`parseOptions.maxTokens` in Apollo, the same
    // option on the WebSocket path): armor's plugin throws from a hook, which Apollo answers 500.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  }).protect();
  return {
    plugins: armor.plugins,
    validationRules: armor.validationRules,
    maxTokens: g.maxTokens,
  };
}

/**
 * Parses and validates one graphql-ws operation with the HTTP path's limits. Returns the
 * document, or errors in the contract's shape (BAD_REQUEST, 400) for the client.
 */
export function parseAndValidate(
  schema: GraphQLSchema,
  query: unknown,
  limits: Pick<GraphqlLimits, 'validationRules' | 'maxTokens'>,
): { document: DocumentNode } | { errors: GraphQLError[] } {
  if (typeof query !== 'string' || !query.trim()) return { errors: [badRequest('query must be a non-empty string')] };
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: limits.maxTokens });
  } catch (e) {
    return { errors: [badRequest((e as Error).message)] };
  }
  const errors = validate(schema, document, [...specifiedRules, ...limits.validationRules]);
  if (errors.length) return { errors: errors.map((e) => badRequest(e.message.replace(/ Did you mean .+/g, ''), e)) };
  return { document };
}

function badRequest(message: string, from?: GraphQLError): GraphQLError {
  return new GraphQLError(message, { nodes: from?.nodes, extensions: { code: 'BAD_REQUEST', statusCode: 400 } });
}
