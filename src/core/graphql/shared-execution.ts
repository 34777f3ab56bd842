import { Extensions } from '@nestjs/graphql';
import {
  ExecutionArgs,
  ExecutionResult,
  FieldNode,
  GraphQLField,
  GraphQLNamedType,
  GraphQLSchema,
  Kind,
  SelectionSetNode,
  createSourceEventStream,
  execute,
  getNamedType,
  getOperationAST,
  isAbstractType,
  isObjectType,
  subscribe,
} from 'graphql';
import { Counter, Registry } from 'prom-client';
import { WebSocket } from 'ws';
import type { GqlContext } from './graphql.config';

/** The field extension that marks a subscription shareable across viewers (see `SharedSubscription`). */
export const SHARED_EXECUTION_EXTENSION = 'sharedExecution';

/**
 * Marks a subscription whose result depends only on the published event, the document and the
 * variables — never on who is asking (public room, market and live-counter topics). Who may
 * subscribe is still decided per subscriber by the subscription's own resolver (membership,
 * ownership); this only says that two subscribers who were let in and sent the same operation
 * may be sent the same bytes. Per-user subscriptions (balances, orders, notifications...) stay
 * unmarked: they are shared only between operations of the same viewer.
 */
export const SharedSubscription = () => Extensions({ [SHARED_EXECUTION_EXTENSION]: true });

/** What the server knows about one graphql-ws operation when it is subscribed. */
export interface SubscribedOperation {
  socket: WebSocket;
  /** The operation id the client chose (the `id` of every frame for it). */
  id: string;
  /** The document text as the client sent it (part of the sharing key). */
  query: string;
}

type Payload = string | Promise<string>;

/**
 * Shared execution of graphql-ws subscriptions (GRAPHQL_SHARED_EXECUTION).
 *
 * graphql-js's `subscribe` executes the selection once per subscriber per event, and graphql-ws
 * then stringifies `{id, type, payload}` and awaits one write per subscriber. Here each
 * subscriber still gets its own source stream (its subscription resolver runs as before: the
 * membership/ownership checks, per-user topics, leave signals, filters), but every source event
 * is executed once per *sharing key* and serialised once; each subscriber's frame is that JSON
 * with its own operation id around it, written straight to its socket.
 *
 * The sharing key is (event object, document text, operation name, canonical variables) plus,
 * unless the root field is marked with `@SharedSubscription()`, the viewer: user id, session,
 * roles and address — everything the GraphQL context carries. So an unmarked subscription is
 * only ever shared between operations of one viewer (e.g. two tabs), and a marked one only if
 * no resolver of its result could read the viewer (checked at startup, see
 * `shareableSubscriptions`); otherwise the marker is ignored with a warning.
 *
 * Event identity: GqlPubSub parses each Redis message once per instance and hands the same
 * object to every subscriber's stream, so the event object itself is the cache key (in a
 * WeakMap: an entry lives exactly as long as some subscriber still holds the event).
 */
export class SharedExecution {
  private readonly operations = new WeakMap<ExecutionArgs, SubscribedOperation>();
  private readonly byEvent = new WeakMap<object, Map<string, Payload>>();
  private readonly shareable: ReadonlySet<string>;
  private readonly executions: Counter<'field' | 'scope'>;

  constructor(
    schema: GraphQLSchema,
    registry: Registry,
    warn: (message: string) => void = () => undefined,
  ) {
    this.shareable = shareableSubscriptions(schema, warn);
    this.executions =
      (registry.getSingleMetric('graphql_subscription_executions_total') as Counter<'field' | 'scope'> | undefined) ??
      new Counter({
        name: 'graphql_subscription_executions_total',
        help: 'graphql-ws subscription executions (one per event and sharing key, not per subscriber); scope: shared across viewers or per viewer',
        labelNames: ['field', 'scope'],
        registers: [registry],
      });
  }

  /** Root subscription fields shared across viewers (for tests and logs). */
  get shareableFields(): ReadonlySet<string> {
    return this.shareable;
  }

  /** Called from `onSubscribe` with the execution arguments it returns to graphql-ws. */
  register(args: ExecutionArgs, op: SubscribedOperation): void {
    this.operations.set(args, op);
  }

  /** graphql-ws's `subscribe` option. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<unknown> | ExecutionResult> => {
    const op = this.operations.get(args);
    // Not registered (cannot happen for operations that passed onSubscribe): graphql-js's own path.
    if (!op) return subscribe(args);
    const source = await createSourceEventStream(args);
    // Refused by the subscription resolver (not a member, not the owner...): graphql-ws sends the errors.
    if (!isAsyncIterable(source)) return source;
    const field = rootFieldName(args) ?? '';
    const shared = this.shareable.has(field);
    const key = [
      shared ? 'shared' : `viewer:${viewerKey(args.contextValue as GqlContext | undefined)}`,
      args.operationName ?? '',
      canonicalJson(args.variableValues ?? {}),
      op.query,
    ].join('\u0000');
    const counter = this.executions.labels(field, shared ? 'shared' : 'viewer');
    return new SharedStream(source[Symbol.asyncIterator](), op, (event) => this.payload(event, key, args, counter));
  };

  /** The serialised `payload` of a `next` frame for this event and key: executed once, then reused. */
  private payload(event: unknown, key: string, args: ExecutionArgs, counter: Counter.Internal): Payload {
    if (typeof event !== 'object' || event === null) return this.run(event, args, counter);
    let perKey = this.byEvent.get(event);
    if (!perKey) this.byEvent.set(event, (perKey = new Map()));
    let p = perKey.get(key);
    if (p === undefined) {
      p = this.run(event, args, counter);
      perKey.set(key, p);
    }
    return p;
  }

  private run(event: unknown, args: ExecutionArgs, counter: Counter.Internal): Payload {
    counter.inc();
    // The first subscriber's arguments (its context) serve all with the same key: equal by the
    // key for per-viewer sharing, irrelevant by declaration (and the startup check) for shared.
    const result = execute({ ...args, rootValue: event });
    return isPromise(result) ? result.then(serialise) : serialise(result);
  }
}

/**
 * One subscriber's operation as graphql-ws sees it: an async iterator that yields nothing and
 * ends when the source ends (graphql-ws then sends `complete`), fails when it fails (graphql-ws
 * sends `error`), and is stopped by `return()` (the client's `complete`, or the socket closing).
 * Meanwhile it pumps the source and writes each event's shared payload as a `next` frame.
 */
class SharedStream implements AsyncIterableIterator<never> {
  private stopped = false;
  private ended?: Promise<IteratorResult<never>>;
  /** `{"id":<id>,"type":"next","payload":` — the frame is this, the shared JSON, and `}`. */
  private readonly head: string;

  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly op: SubscribedOperation,
    private readonly payloadOf: (event: unknown) => Payload,
  ) {
    this.head = `{"id":${JSON.stringify(op.id)},"type":"next","payload":`;
  }

  next(): Promise<IteratorResult<never>> {
    return (this.ended ??= this.pump());
  }

  async return(): Promise<IteratorResult<never>> {
    this.stopped = true;
    await this.source.return?.();
    return { done: true, value: undefined };
  }

  async throw(e?: unknown): Promise<IteratorResult<never>> {
    this.stopped = true;
    await this.source.return?.();
    throw e;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  private async pump(): Promise<IteratorResult<never>> {
    const socket = this.op.socket;
    try {
      while (!this.stopped) {
        const r = await this.source.next();
        if (r.done || this.stopped) break;
        let json = this.payloadOf(r.value);
        if (typeof json !== 'string') json = await json;
        if (this.stopped) break;
        // graphql-ws would await each write's callback; ws queues writes in order either way, and
        // a closed socket ends the operation through graphql-ws's close handler (return()).
        if (socket.readyState === WebSocket.OPEN) socket.send(this.head + json + '}');
      }
    } catch (e) {
      this.stopped = true;
      await this.source.return?.();
      throw e;
    }
    return { done: true, value: undefined };
  }
}

/** As graphql-ws serialises a result: `errors` as their `toJSON()` (GraphQLError has one). */
function serialise(result: ExecutionResult): string {
  return JSON.stringify(result);
}

/** Everything in the GraphQL context a resolver could act on (GqlContext over graphql-ws). */
function viewerKey(ctx: GqlContext | undefined): string {
  const u = ctx?.user;
  if (!u) return `anonymous|${ctx?.ip ?? ''}`;
  return `${u.id}|${u.sessionId}|${[...u.roles].sort().join(',')}|${ctx?.ip ?? ''}`;
}

/**
 * JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` are one key. Written here
 * (a few lines) rather than adding a dependency: variables are small, plain JSON values.
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The root field of a (validated, single-root-field) subscription operation. */
function rootFieldName(args: ExecutionArgs): string | undefined {
  const op = getOperationAST(args.document, args.operationName);
  if (!op) return undefined;
  const fragments = new Map<string, SelectionSetNode>();
  for (const d of args.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
  const find = (set: SelectionSetNode, seen: Set<string>): FieldNode | undefined => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) return s;
      if (s.kind === Kind.INLINE_FRAGMENT) {
        const f = find(s.selectionSet, seen);
        if (f) return f;
      } else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const frag = fragments.get(s.name.value);
        const f = frag && find(frag, seen);
        if (f) return f;
      }
    }
    return undefined;
  };
  return find(op.selectionSet, new Set())?.name.value;
}

/**
 * The subscription fields marked `@SharedSubscription()` whose result no resolver could tailor to
 * the viewer. A resolver sees the viewer through its third parameter (the context) or fourth
 * (info, which also carries the context-free but operation-specific path); graphql's default
 * resolver and @nestjs/graphql's property resolver (`(root) => root[name]`) and a subscription's
 * `resolve: (p) => p.x` declare only the parent, so they cannot. Anything else — a
 * `@ResolveField`, field middleware (both wrapped by Nest as `(...args) =>`) — makes the field
 * shared per viewer only, with a warning. Conservative: it can only refuse sharing, never grant it.
 */
export function shareableSubscriptions(schema: GraphQLSchema, warn: (message: string) => void): Set<string> {
  const out = new Set<string>();
  const fields = schema.getSubscriptionType()?.getFields() ?? {};
  for (const [name, field] of Object.entries(fields)) {
    if (field.extensions?.[SHARED_EXECUTION_EXTENSION] !== true) continue;
    const custom = mayReadViewer(field) ? `Subscription.${name}` : viewerReaderBelow(schema, getNamedType(field.type), new Set());
    if (custom) warn(`Subscription ${name} is marked shareable but ${custom} has a resolver that may read the context: shared per viewer only`);
    else out.add(name);
  }
  return out;
}

function mayReadViewer(field: { resolve?: (...args: never[]) => unknown }): boolean {
  return !!field.resolve && field.resolve.length !== 1;
}

function viewerReaderBelow(schema: GraphQLSchema, type: GraphQLNamedType, seen: Set<string>): string | null {
  if (seen.has(type.name)) return null;
  seen.add(type.name);
  const types = isAbstractType(type) ? schema.getPossibleTypes(type) : isObjectType(type) ? [type] : [];
  for (const t of types) {
    for (const f of Object.values(t.getFields()) as GraphQLField<unknown, unknown>[]) {
      if (mayReadViewer(f)) return `${t.name}.${f.name}`;
      const found = viewerReaderBelow(schema, getNamedType(f.type), seen);
      if (found) return found;
    }
  }
  return null;
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof Object(v)[Symbol.asyncIterator] === 'function';
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === 'function';
}
