import {
  ExecutionArgs,
  ExecutionResult,
  GraphQLBoolean,
  GraphQLID,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
} from 'graphql';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import { SHARED_EXECUTION_EXTENSION, SharedExecution, canonicalJson, shareableSubscriptions } from './shared-execution';

/**
 * Pure logic: a hand-built schema, an in-memory event hub that hands every subscriber the same
 * event objects (as GqlPubSub does), and fake sockets that record frames. The real graphql-ws
 * path is covered by test/graphql-shared-execution.e2e-spec.ts.
 */
type Event = { item: { id: string; text: string; owner: string } };

function hub() {
  const queues = new Set<{ push(e: Event): void }>();
  return {
    publish: (e: Event) => queues.forEach((q) => q.push(e)),
    iterator(): AsyncIterableIterator<Event> {
      const buffered: Event[] = [];
      let waiting: ((r: IteratorResult<Event>) => void) | null = null;
      const q = {
        push(e: Event) {
          if (waiting) {
            waiting({ value: e, done: false });
            waiting = null;
          } else buffered.push(e);
        },
      };
      queues.add(q);
      const it: AsyncIterableIterator<Event> = {
        next: () => (buffered.length ? Promise.resolve({ value: buffered.shift()!, done: false }) : new Promise((r) => (waiting = r))),
        return: async () => {
          queues.delete(q);
          waiting?.({ value: undefined, done: true });
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]: () => it,
      };
      return it;
    },
    get size() {
      return queues.size;
    },
  };
}

function schemaWith(h: ReturnType<typeof hub>) {
  const plain = new GraphQLObjectType({ name: 'Item', fields: { id: { type: GraphQLID }, text: { type: GraphQLString } } });
  // `mine` depends on who asks: its resolver reads the context.
  const personal = new GraphQLObjectType({
    name: 'PersonalItem',
    fields: {
      id: { type: GraphQLID },
      text: { type: GraphQLString },
      mine: { type: GraphQLBoolean, resolve: (p: Event['item'], _a: unknown, ctx: { user?: { id: string } }) => p.owner === ctx.user?.id },
    },
  });
  const args = { tag: { type: new GraphQLNonNull(GraphQLString) } };
  const field = (type: GraphQLObjectType, shared: boolean) => ({
    type,
    args,
    extensions: shared ? { [SHARED_EXECUTION_EXTENSION]: true } : {},
    subscribe: () => h.iterator(),
    resolve: (p: Event) => p.item,
  });
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        publicItem: field(plain, true),
        personalItem: field(personal, false),
        // Marked, but its type has a viewer-dependent resolver: the marker must not be trusted.
        wronglyMarked: field(personal, true),
      },
    }),
  });
}

function fakeSocket() {
  const frames: string[] = [];
  const socket = { readyState: WebSocket.OPEN, send: (s: string) => frames.push(s) } as unknown as WebSocket;
  return { socket, frames };
}

const user = (id: string) => ({ user: { id, sessionId: `s-${id}`, roles: ['user' as const] }, ip: '127.0.0.1' });
const tick = () => new Promise((r) => setImmediate(r));

describe('SharedExecution', () => {
  let h: ReturnType<typeof hub>;
  let schema: GraphQLSchema;
  let registry: Registry;
  let shared: SharedExecution;
  let warnings: string[];
  beforeEach(() => {
    h = hub();
    schema = schemaWith(h);
    registry = new Registry();
    warnings = [];
    shared = new SharedExecution(schema, registry, (m) => warnings.push(m));
  });

  const executions = async (field: string) => {
    const m = await registry.getSingleMetric('graphql_subscription_executions_total')!.get();
    return m.values.filter((v) => v.labels.field === field).reduce((s, v) => s + v.value, 0);
  };

  /** Subscribes one operation the way GqlWsServer does (register, then graphql-ws's `subscribe`). */
  async function sub(query: string, variables: Record<string, unknown>, context: object, id = '1') {
    const { socket, frames } = fakeSocket();
    const args: ExecutionArgs = { schema, document: parse(query), variableValues: variables, contextValue: context };
    shared.register(args, { socket, id, query });
    const it = (await shared.subscribe(args)) as AsyncIterableIterator<unknown>;
    const ended = it.next();
    return { it, ended, frames, payloads: () => frames.map((f) => JSON.parse(f)) };
  }

  it('trusts the marker only when no resolver of the result can read the context', () => {
    expect([...shared.shareableFields]).toEqual(['publicItem']);
    expect(warnings).toEqual([expect.stringContaining('wronglyMarked is marked shareable but PersonalItem.mine')]);
    expect([...shareableSubscriptions(schema, () => undefined)]).toEqual(['publicItem']);
  });

  it('a shareable subscription: one execution and one payload for every subscriber of the same operation', async () => {
    const q = 'subscription($t: String!) { publicItem(tag: $t) { id text } }';
    const a = await sub(q, { t: 'x' }, user('alice'), 'a-op');
    const b = await sub(q, { t: 'x' }, user('bob'), 'b "op"');
    const other = await sub(q, { t: 'y' }, user('carol'));
    const short = await sub('subscription($t: String!) { publicItem(tag: $t) { text } }', { t: 'x' }, user('dave'));
    h.publish({ item: { id: 'i1', text: 'hello', owner: 'alice' } });
    await tick();
    const data = { data: { publicItem: { id: 'i1', text: 'hello' } } };
    expect(a.payloads()).toEqual([{ id: 'a-op', type: 'next', payload: data }]);
    expect(b.payloads()).toEqual([{ id: 'b "op"', type: 'next', payload: data }]);
    expect(other.payloads()).toEqual([{ id: '1', type: 'next', payload: data }]);
    expect(short.payloads()).toEqual([{ id: '1', type: 'next', payload: { data: { publicItem: { text: 'hello' } } } }]);
    // a+b share; other variables and another selection run on their own.
    expect(await executions('publicItem')).toBe(3);
  });

  it('a viewer-dependent subscription is shared only by the same viewer: nobody gets another user’s result', async () => {
    const q = 'subscription($t: String!) { personalItem(tag: $t) { id mine } }';
    const alice1 = await sub(q, { t: 'x' }, user('alice'));
    const alice2 = await sub(q, { t: 'x' }, user('alice'));
    const bob = await sub(q, { t: 'x' }, user('bob'));
    const marked = await sub('subscription($t: String!) { wronglyMarked(tag: $t) { id mine } }', { t: 'x' }, user('bob'));
    const markedAlice = await sub('subscription($t: String!) { wronglyMarked(tag: $t) { id mine } }', { t: 'x' }, user('alice'));
    h.publish({ item: { id: 'i1', text: 'hello', owner: 'alice' } });
    await tick();
    expect(alice1.payloads()[0].payload).toEqual({ data: { personalItem: { id: 'i1', mine: true } } });
    expect(alice2.payloads()[0].payload).toEqual({ data: { personalItem: { id: 'i1', mine: true } } });
    expect(bob.payloads()[0].payload).toEqual({ data: { personalItem: { id: 'i1', mine: false } } });
    expect(marked.payloads()[0].payload).toEqual({ data: { wronglyMarked: { id: 'i1', mine: false } } });
    expect(markedAlice.payloads()[0].payload).toEqual({ data: { wronglyMarked: { id: 'i1', mine: true } } });
    expect(await executions('personalItem')).toBe(2); // alice (shared by her two operations), bob
    expect(await executions('wronglyMarked')).toBe(2);
  });

  it('variables are compared canonically (key order does not matter)', async () => {
    expect(canonicalJson({ b: [1, { d: 2, c: 'x' }], a: null, u: undefined })).toBe('{"a":null,"b":[1,{"c":"x","d":2}]}');
    const q = 'subscription($t: String!) { publicItem(tag: $t) { id } }';
    await sub(q, { t: 'x', z: 1 }, user('alice'));
    await sub(q, { z: 1, t: 'x' }, user('bob'));
    h.publish({ item: { id: 'i1', text: 'hello', owner: 'alice' } });
    await tick();
    expect(await executions('publicItem')).toBe(1);
  });

  it('return() (the client completes) stops the frames and releases the source; the iterator ends', async () => {
    const q = 'subscription($t: String!) { publicItem(tag: $t) { id } }';
    const a = await sub(q, { t: 'x' }, user('alice'));
    const b = await sub(q, { t: 'x' }, user('bob'));
    h.publish({ item: { id: 'i1', text: 'one', owner: 'alice' } });
    await tick();
    await a.it.return!();
    await expect(a.ended).resolves.toEqual({ done: true, value: undefined });
    expect(h.size).toBe(1);
    h.publish({ item: { id: 'i2', text: 'two', owner: 'alice' } });
    await tick();
    expect(a.payloads().map((p) => p.payload.data.publicItem.id)).toEqual(['i1']);
    expect(b.payloads().map((p) => p.payload.data.publicItem.id)).toEqual(['i1', 'i2']);
  });

  it('a refused subscription (its resolver throws) is answered with errors, not a stream', async () => {
    const refusing = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: {
          secret: {
            type: GraphQLString,
            subscribe: () => {
              throw new Error('Not a member of this room');
            },
          },
        },
      }),
    });
    const s = new SharedExecution(refusing, new Registry());
    const args: ExecutionArgs = { schema: refusing, document: parse('subscription { secret }'), contextValue: user('eve') };
    s.register(args, { socket: fakeSocket().socket, id: '1', query: 'subscription { secret }' });
    const r = (await s.subscribe(args)) as ExecutionResult;
    expect(r.errors?.map((e) => e.message)).toEqual(['Not a member of this room']);
  });
});
