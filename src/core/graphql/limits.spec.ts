import { buildSchema, parse, specifiedRules, validate, execute } from 'graphql';
import depthLimit from 'graphql-depth-limit';
import { complexityPlugin, maxAliasesRule } from './limits';

const schema = buildSchema(`
  type Node { id: ID!, child: Node, children(first: Int): [Node!]! }
  type Query { node: Node }
`);

const check = (q: string, rules = [depthLimit(3), maxAliasesRule(2)]) => validate(schema, parse(q), [...specifiedRules, ...rules]);

describe('GraphQL limits', () => {
  it('refuses queries deeper than the limit', () => {
    expect(check('{ node { child { child { id } } } }')).toHaveLength(0);
    const errors = check('{ node { child { child { child { child { id } } } } } }');
    expect(errors[0].message).toMatch(/exceeds maximum operation depth/);
  });

  it('refuses more aliases than the limit', () => {
    expect(check('{ a: node { id } b: node { id } }')).toHaveLength(0);
    const errors = check('{ a: node { id } b: node { id } c: node { id } }');
    expect(errors.map((e) => e.message)).toContain('Query uses more than 2 aliases');
  });

  it('refuses operations whose estimated cost is over the limit', async () => {
    const plugin = complexityPlugin(10);
    const hooks = await (plugin.requestDidStart as any)({});
    const run = (q: string) =>
      hooks.didResolveOperation({ request: { query: q, variables: {} }, document: parse(q), schema });
    await expect(run('{ node { id child { id } } }')).resolves.toBeUndefined();
    await expect(run('{ a: node { id child { id child { id child { id } } } } b: node { id child { id child { id child { id } } } } }')).rejects.toThrow(
      /too expensive: cost \d+ exceeds the limit of 10/,
    );
    // sanity: the schema itself executes
    expect(execute({ schema, document: parse('{ node { id } }') })).toBeTruthy();
  });
});
