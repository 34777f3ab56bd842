import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import WebSocket from 'ws';
import type { Client as WsClient } from 'graphql-ws';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, eventually, gqlWs, http, loginAdmin, registerUser, TestUser } from './harness/clients';
import { deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { GqlWsServer } from '../src/core/graphql/ws-server';

/**
 * graphql-ws subscribers of one event with the same document, operation and variables share one
 * execution and one serialised payload (GRAPHQL_SHARED_EXECUTION, core/graphql/shared-execution.ts);
 * a subscription not marked shareable is shared only between operations of the same viewer.
 * Instance `a` runs with the switch on (the default), instance `b` (same database and Redis) with it off.
 */
describe('graphql-ws shared subscription execution', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: TestUser;
  let ds: DataSource;
  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ shareWith: a, env: { GRAPHQL_SHARED_EXECUTION: 'false' } });
    admin = await loginAdmin(a);
    ds = a.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await b.close();
    await a.close();
  });

  /** Every payload a subscription receives, in order. */
  function collect(client: WsClient, query: string, variables: Record<string, unknown> = {}) {
    const items: any[] = [];
    const errors: unknown[] = [];
    const dispose = client.subscribe({ query, variables }, { next: (v) => items.push(v), error: (e) => errors.push(e), complete: () => undefined });
    return { items, errors, dispose };
  }

  /** `graphql_subscription_executions_total` for a field and scope, read from the instance's /metrics. */
  async function executions(t: TestApp, field: string, scope: 'shared' | 'viewer'): Promise<number> {
    const text = (await http(t).get('/metrics').expect(200)).text;
    const m = new RegExp(`^graphql_subscription_executions_total\\{field="${field}",scope="${scope}"\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  const createRoom = async (owner: TestUser, memberIds: string[]) =>
    (await http(a).post('/api/chat/rooms').set('authorization', `Bearer ${owner.token}`).send({ name: 'shared', isPrivate: true, memberIds }).expect(201)).body as {
      id: string;
    };
  const post = async (t: TestApp, u: TestUser, roomId: string, content: string) =>
    (await http(t).post(`/api/chat/rooms/${roomId}/messages`).set('authorization', `Bearer ${u.token}`).send({ content }).expect(201)).body as {
      id: string;
      seq: number;
    };

  const FULL = 'subscription($r: ID!) { messageAdded(roomId: $r) { id roomId seq senderId content } }';
  const SHORT = 'subscription($r: ID!) { messageAdded(roomId: $r) { seq content } }';

  it('shares across viewers only the subscriptions marked shareable; the switch turns it off', () => {
    expect(b.app.get(GqlWsServer).shared).toBeUndefined();
    expect([...a.app.get(GqlWsServer).shared!.shareableFields].sort()).toEqual(['battleUpdated', 'messageAdded', 'offerUpdated', 'orderBookUpdated', 'priceUpdated', 'publicRoomChanged', 'tradeExecuted', 'typingChanged', 'viewerCountUpdated']);
  });

  it('one execution per event for the same document and variables; other selections and variables get their own, all correct', async () => {
    const owner = await registerUser(a);
    const m1 = await registerUser(a);
    const m2 = await registerUser(a);
    const room1 = await createRoom(owner, [m1.id, m2.id]);
    const room2 = await createRoom(owner, [m1.id]);

    const s1 = collect(gqlWs(a, m1.token), FULL, { r: room1.id });
    const s2 = collect(gqlWs(a, m2.token), FULL, { r: room1.id });
    const s3 = collect(gqlWs(a, owner.token), SHORT, { r: room1.id });
    const s4 = collect(gqlWs(a, m1.token), FULL, { r: room2.id });
    const off = collect(gqlWs(b, m2.token), FULL, { r: room1.id }); // the switch off: graphql-ws's own path
    const room1Subs = [s1, s2, s3, off];

    // Subscriptions register asynchronously: send until every one of them has received something.
    let warm1 = 0;
    let warm2 = 0;
    await eventually(async () => {
      if (room1Subs.some((s) => !s.items.length)) warm1 = (await post(a, owner, room1.id, 'warm-up')).seq;
      if (!s4.items.length) warm2 = (await post(a, owner, room2.id, 'warm-up')).seq;
      await new Promise((r) => setTimeout(r, 50));
      return room1Subs.every((s) => s.items.length) && s4.items.length > 0;
    }, { timeoutMs: 10_000 });
    // ...and until the last warm-up message reached them all, so no execution is still to come.
    await eventually(() => room1Subs.every((s) => s.items.at(-1)!.data.messageAdded.seq === warm1) && s4.items.at(-1)!.data.messageAdded.seq === warm2);
    for (const s of [...room1Subs, s4]) s.items.length = 0;
    const before = await executions(a, 'messageAdded', 'shared');
    const offBefore = await executions(b, 'messageAdded', 'shared');

    const msg = await post(a, owner, room1.id, 'hello room one');
    const msg2 = await post(a, m1, room2.id, 'hello room two');
    await eventually(() => room1Subs.every((s) => s.items.length === 1) && s4.items.length === 1);

    const expected = { id: msg.id, roomId: room1.id, seq: msg.seq, senderId: owner.id, content: 'hello room one' };
    expect(s1.items[0]).toEqual({ data: { messageAdded: expected } });
    expect(s2.items[0]).toEqual(s1.items[0]);
    expect(off.items[0]).toEqual(s1.items[0]);
    expect(s3.items[0]).toEqual({ data: { messageAdded: { seq: msg.seq, content: 'hello room one' } } });
    expect(s4.items[0]).toEqual({ data: { messageAdded: { id: msg2.id, roomId: room2.id, seq: msg2.seq, senderId: m1.id, content: 'hello room two' } } });
    // Room one: FULL (s1 + s2) once, SHORT once; room two: once. Not one per subscriber.
    expect((await executions(a, 'messageAdded', 'shared')) - before).toBe(3);
    expect(await executions(b, 'messageAdded', 'shared')).toBe(offBefore);
    expect([s1, s2, s3, s4, off].flatMap((s) => s.errors)).toEqual([]);

    // A client's `complete` stops its deliveries; the others go on.
    s2.dispose();
    await new Promise((r) => setTimeout(r, 100));
    const next = await post(a, owner, room1.id, 'after one left');
    await eventually(() => s1.items.length === 2 && s3.items.length === 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(s2.items).toHaveLength(1);
    expect(s1.items[1].data.messageAdded).toMatchObject({ seq: next.seq, content: 'after one left' });
  });

  it('sends a well-formed graphql-transport-ws `next` frame around the shared payload', async () => {
    const owner = await registerUser(a);
    const room = await createRoom(owner, []);
    const ws = new WebSocket(a.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${owner.token}` } }));
    await eventually(() => frames.some((f) => JSON.parse(f).type === 'connection_ack'));
    // An id that needs escaping in JSON.
    const id = 'op "1" \\ ü';
    ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: SHORT, variables: { r: room.id } } }));
    try {
      let seq = 0;
      await eventually(async () => {
        seq = (await post(a, owner, room.id, 'frame')).seq;
        await new Promise((r) => setTimeout(r, 50));
        return frames.some((f) => f.includes('"next"'));
      });
      const frame = JSON.parse(frames.find((f) => f.includes('"next"'))!);
      expect(frame).toEqual({ id, type: 'next', payload: { data: { messageAdded: { seq: expect.any(Number), content: 'frame' } } } });
      expect(frame.payload.data.messageAdded.seq).toBeLessThanOrEqual(seq);
    } finally {
      ws.close();
    }
  });

  it('a per-user subscription (balanceUpdated) is shared only between the same viewer’s operations', async () => {
    const u1 = await registerUser(a);
    const u2 = await registerUser(a);
    const DOC = 'subscription { balanceUpdated { userId balances { asset available total } } }';
    const u1a = collect(gqlWs(a, u1.token), DOC);
    const u1b = collect(gqlWs(a, u1.token), DOC);
    const u2a = collect(gqlWs(a, u2.token), DOC);
    const all = [u1a, u1b, u2a];

    await eventually(async () => {
      if (!u1a.items.length || !u1b.items.length) await deposit(a, admin, u1.id, 'USD', '0.01');
      if (!u2a.items.length) await deposit(a, admin, u2.id, 'USD', '0.01');
      await new Promise((r) => setTimeout(r, 100));
      return all.every((s) => s.items.length);
    }, { timeoutMs: 10_000 });
    // Wait for the warm-up deposits to settle (both of u1's operations saw the same events).
    await eventually(async () => {
      const n = [u1a.items.length, u1b.items.length, u2a.items.length];
      await new Promise((r) => setTimeout(r, 200));
      return u1a.items.length === n[0] && u1b.items.length === n[1] && u2a.items.length === n[2];
    });
    for (const s of all) s.items.length = 0;
    const before = await executions(a, 'balanceUpdated', 'viewer');

    await deposit(a, admin, u1.id, 'USD', '5.00');
    await eventually(() => u1a.items.length > 0 && u1a.items.length === u1b.items.length);
    await deposit(a, admin, u2.id, 'USD', '7.00');
    await eventually(() => u2a.items.length > 0);
    await new Promise((r) => setTimeout(r, 200));

    // Each user sees only their own balances, never the other's.
    expect(u1a.items.every((p) => p.data.balanceUpdated.userId === u1.id)).toBe(true);
    expect(u2a.items.every((p) => p.data.balanceUpdated.userId === u2.id)).toBe(true);
    expect(u1b.items).toEqual(u1a.items);
    expect(u2a.items.at(-1).data.balanceUpdated.balances).toEqual(expect.arrayContaining([expect.objectContaining({ asset: 'USD' })]));
    // u1's two operations shared each execution; u2's events had their own.
    expect((await executions(a, 'balanceUpdated', 'viewer')) - before).toBe(u1a.items.length + u2a.items.length);
  });
});
