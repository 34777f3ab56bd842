import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, ValidationContext, ASTVisitor } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/**
 * Alias limit: the depth and cost libraries do not count aliases, and a query with thousands
 * of aliased copies of one cheap field is the classic batching attack. Hand-written because
 * it is a ten-line visitor.
 */
export function maxAliasesRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    let count = 0;
    return {
      Field(node) {
        if (node.alias) {
          count += 1;
          if (count === max + 1) {
            context.reportError(new GraphQLError(`Query uses more than ${max} aliases`, { extensions: { code: 'BAD_REQUEST', statusCode: 400 } }));
          }
        }
      },
    };
  };
}

/** Cost limit computed with the actual variables (so `first: $n` counts). */
export function complexityPlugin(maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          const cost = getComplexity({
            schema,
            operationName: request.operationName,
            query: document,
            variables: request.variables ?? {},
            estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
          });
          if (cost > maxCost) {
            throw new GraphQLError(`Query is too expensive: cost ${cost} exceeds the limit of ${maxCost}`, {
              extensions: { code: 'BAD_REQUEST', statusCode: 400, cost, maxCost },
            });
          }
        },
      };
    },
  };
}
