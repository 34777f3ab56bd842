import { Injectable, Logger } from '@nestjs/common';
import type { Executor } from '../database/transaction';
import type { ServerEvent, ServerToClientEvents } from './events';
import { GqlPubSub } from './gql-pubsub';
import { RealtimePublisher } from './realtime.publisher';

/**
 * One typed way to announce a change to clients, on Socket.IO and on GraphQL subscriptions.
 *
 * A module declares its events in `<module>.events.ts` with `defineEvent` (the Socket.IO
 * event name, the GraphQL topic and field), and its services call
 * `announcer.announce(Event, payload, audience)` once the change has committed (or
 * `announceAfterCommit(tx, ...)` inside the transaction). Core knows no feature: the map of
 * events is assembled by the modules themselves.
 */

/** Who receives the Socket.IO emit. GraphQL subscribers are reached through the event's topics. */
export type Audience =
  | { user: string }
  | { users: readonly string[] }
  | { room: string | readonly string[] }
  /** A room except the sockets of one user (e.g. "x joined" not echoed to x). */
  | { roomExceptUser: readonly [room: string, userId: string] }
  /** No socket emit: a GraphQL-only event (or a socket event published elsewhere). */
  | { none: true };

/** The Socket.IO events whose payload type accepts `P` as it is. */
type EventsAccepting<P> = { [E in ServerEvent]: [P] extends [ServerToClientEvents[E]] ? E : never }[ServerEvent];

/** A Socket.IO event whose payload is built from `P` (e.g. `{ tip }` from a tip). */
export type SocketSpec<P> = { [E in ServerEvent]: { event: E; payload: (p: P) => ServerToClientEvents[E] } }[ServerEvent];

/**
 * The GraphQL side: `{ topic, field }` publishes `{ [field]: payload }` on the topic (or topics);
 * a function returns the exact `[topic, payload]` pairs when the shape differs.
 */
export type GraphqlSpec<P> =
  | { topic: (p: P, audience: Audience) => string | readonly string[]; field: string }
  | ((p: P, audience: Audience) => ReadonlyArray<readonly [topic: string, payload: object]>);

export interface EventSpec<P> {
  /** The Socket.IO event: its name (the payload is sent as it is) or `{ event, payload }`. */
  socket?: EventsAccepting<P> | SocketSpec<P>;
  graphql?: GraphqlSpec<P>;
}

/** An event a module announces; `P` is what the caller passes to `announce()`. */
export interface EventDef<P> {
  readonly socket?: { event: ServerEvent; payload: (p: P) => unknown };
  readonly graphql?: (p: P, audience: Audience) => ReadonlyArray<readonly [topic: string, payload: object]>;
  /** Type-only: the payload type (never set). */
  readonly __payload?: P;
}

export function defineEvent<P>(spec: EventSpec<P>): EventDef<P> {
  const s = spec.socket;
  const socket =
    s === undefined
      ? undefined
      : typeof s === 'string'
        ? { event: s as ServerEvent, payload: (p: P) => p as unknown }
        : { event: s.event as ServerEvent, payload: s.payload as (p: P) => unknown };
  const g = spec.graphql;
  let graphql: EventDef<P>['graphql'];
  if (typeof g === 'function') graphql = g;
  else if (g) {
    const { topic, field } = g;
    graphql = (p, audience) => {
      const t = topic(p, audience);
      return (typeof t === 'string' ? [t] : t).map((one) => [one, { [field]: p }] as const);
    };
  }
  return { socket, graphql };
}

/** The user ids an audience names directly (`user`/`users`); empty for rooms and `none`. */
export function audienceUsers(audience: Audience): string[] {
  if ('user' in audience) return [audience.user];
  if ('users' in audience) return [...audience.users];
  return [];
}

/** The Socket.IO emit and GraphQL publishes an announcement makes (pure; what `announce` does). */
export interface Plan {
  emit?: { audience: Exclude<Audience, { none: true }>; event: ServerEvent; payload: unknown };
  publishes: Array<readonly [topic: string, payload: object]>;
}

export function plan<P>(event: EventDef<P>, payload: P, audience: Audience): Plan {
  const publishes = event.graphql ? [...event.graphql(payload, audience)] : [];
  if (!event.socket || 'none' in audience) return { publishes };
  return { emit: { audience, event: event.socket.event, payload: event.socket.payload(payload) }, publishes };
}

/** The parts of RealtimePublisher and GqlPubSub an Announcer uses (a fake in unit tests). */
export type SocketSink = Pick<RealtimePublisher, 'toUser' | 'toRoom' | 'toRoomExceptUser'>;
export type TopicSink = Pick<GqlPubSub, 'publish'>;

@Injectable()
export class Announcer {
  private readonly logger = new Logger('Announcer');

  constructor(
    private readonly publisher: RealtimePublisher,
    private readonly pubsub: GqlPubSub,
  ) {}

  /**
   * Emits to the audience's sockets (synchronously) and publishes on the event's GraphQL
   * topics. Never throws: a failed publish is logged. The returned promise settles once the
   * publishes have reached Redis; callers that do not need that ignore it.
   */
  announce<P>(event: EventDef<P>, payload: P, audience: Audience): Promise<void> {
    return deliver(plan(event, payload, audience), this.publisher, this.pubsub, this.logger);
  }

  /** Announces once `tx` has committed (never after a rollback). */
  announceAfterCommit<P>(tx: Pick<Executor, 'afterCommit'>, event: EventDef<P>, payload: P, audience: Audience): void {
    tx.afterCommit(() => this.announce(event, payload, audience));
  }
}

/** Carries out a plan on a socket sink and a topic sink. */
export function deliver(p: Plan, sockets: SocketSink, topics: TopicSink, logger?: Pick<Logger, 'warn'>): Promise<void> {
  if (p.emit) {
    const { audience: a, event, payload } = p.emit;
    // The payload was type-checked against the event by defineEvent.
    const anyPayload = payload as never;
    try {
      if ('user' in a) sockets.toUser(a.user, event, anyPayload);
      else if ('users' in a) sockets.toUser([...a.users], event, anyPayload);
      else if ('room' in a) sockets.toRoom(typeof a.room === 'string' ? a.room : [...a.room], event, anyPayload);
      else sockets.toRoomExceptUser(a.roomExceptUser[0], a.roomExceptUser[1], event, anyPayload);
    } catch (e) {
      logger?.warn(`${event} emit failed: ${(e as Error).message}`);
    }
  }
  if (!p.publishes.length) return Promise.resolve();
  const failed = (topic: string) => (e: unknown) => logger?.warn(`GraphQL publish on ${topic} failed: ${(e as Error)?.message}`);
  return Promise.all(
    p.publishes.map(([topic, body]) => {
      try {
        return topics.publish(topic, body).catch(failed(topic));
      } catch (e) {
        failed(topic)(e);
        return undefined;
      }
    }),
  ).then(() => undefined);
}
