import { buildSchema, getIntrospectionQuery } from 'graphql';
import { graphqlLimits, parseAndValidate } from './limits';
import { loadConfig } from '../config/config';

const schema = buildSchema(`
  type Node { id: ID!, name: String, child: Node, children(first: Int): [Node!]! }
  type Query { node: Node, nodes: [Node!]! }
`);

const config = (env: Record<string, string> = {}) =>
  loadConfig({ JWT_SECRET: 'x'.repeat(40), GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_ALIASES: '2', GRAPHQL_MAX_COST: '50', ...env });
const limits = graphqlLimits(config());
const check = (q: string) => {
  const r = parseAndValidate(schema, q, limits);
  return 'errors' in r ? r.errors.map((e) => e.message) : [];
};

describe('GraphQL limits (graphql-armor + graphql-js specified rules), shared by HTTP and WebSocket', () => {
  it('refuses operations deeper than the limit', () => {
    expect(check('{ node { child { id } } }')).toEqual([]);
    expect(check('{ node { child { child { child { child { id } } } } } }').join()).toMatch(/depth/i);
  });

  it('refuses more aliases than the limit', () => {
    expect(check('{ a: node { id } b: node { id } }')).toEqual([]);
    expect(check('{ a: node { id } b: node { id } c: node { id } }').join()).toMatch(/aliases/i);
  });

  it('refuses operations whose cost is over the limit', () => {
    const wide = `{ nodes { ${Array.from({ length: 40 }, () => 'id name').join(' ')} child { id name } } }`;
    expect(check(wide).join()).toMatch(/cost/i);
  });

  it('refuses documents with too many tokens before validating them', () => {
    const many = `{ ${Array.from({ length: 400 }, () => 'node { id }').join(' ')} }`;
    expect(check(many).join()).toMatch(/token/i);
  });

  it('refuses too many directives', () => {
    const dirs = `{ node { id ${Array.from({ length: 60 }, () => '@include(if: true)').join(' ')} } }`;
    expect(check(dirs).join()).toMatch(/directive/i);
  });

  it('accepts the standard introspection query and refuses a looping one', () => {
    expect(check(getIntrospectionQuery())).toEqual([]);
    expect(check(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }))).toEqual([]);
    const looping = '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }';
    expect(check(looping).join()).toMatch(/introspection/i);
    const viaFragment = 'query { __type(name: "Node") { ...T } } fragment T on __Type { fields { type { ...U } } } fragment U on __Type { fields { type { fields { name } } } }';
    expect(check(viaFragment).join()).toMatch(/introspection/i);
  });

  it('answers syntax errors and bad input as BAD_REQUEST errors, never throws', () => {
    const r = parseAndValidate(schema, '{ node { ', limits);
    expect('errors' in r && r.errors[0].extensions).toMatchObject({ code: 'BAD_REQUEST', statusCode: 400 });
    expect('errors' in parseAndValidate(schema, 42, limits)).toBe(true);
  });
});
