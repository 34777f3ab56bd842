import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, gql, registerUser } from './harness/clients';
import { closeTrackedClients, trackedGqlWs } from './harness/ws';

/** GraphQL over WebSocket gets the same limits as GraphQL over HTTP, plus frame, concurrency and rate caps. */
describe('GraphQL limits on both transports', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { GRAPHQL_WS_MAX_OPERATIONS: '3', THROTTLE_GRAPHQL_WS_OPERATIONS: '12', THROTTLE_GRAPHQL_WS_WINDOW_SECONDS: '600' },
    });
  });
  afterAll(async () => {
    await closeClients();
    await closeTrackedClients();
    await t.close();
  });

  const manyAliases = `{ ${Array.from({ length: 500 }, (_, i) => `p${i}: tradingPairs { id }`).join(' ')} }`;
  // fields → type → fields → type ...: each level multiplies the work; no tool sends this.
  const loopingIntrospection = `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`;

  it('serves the standard introspection query over HTTP and over WebSocket', async () => {
    const u = await registerUser(t);
    const overHttp = await gql(t, getIntrospectionQuery(), {}, u.token).expect(200);
    expect(overHttp.body.errors).toBeUndefined();
    expect(overHttp.body.data.__schema.queryType.name).toBe('Query');
    const conn = trackedGqlWs(t, u.token);
    await conn.connected;
    const overWs = await conn.run(getIntrospectionQuery());
    expect(overWs.errors).toBeUndefined();
    expect(overWs.data.__schema.types.length).toBe(overHttp.body.data.__schema.types.length);
  });

  it('refuses a looping introspection query on both transports', async () => {
    const u = await registerUser(t);
    const overHttp = await gql(t, loopingIntrospection, {}, u.token).expect(400);
    expect(overHttp.body.data).toBeUndefined();
    const conn = trackedGqlWs(t, u.token);
    await conn.connected;
    const overWs = await conn.run(loopingIntrospection);
    expect(overWs.data).toBeUndefined();
    expect(overWs.errors?.[0].message).toMatch(/introspection/i);
  });

  it('refuses 500 aliased fields in one WebSocket frame (and over HTTP), running none of them', async () => {
    const u = await registerUser(t);
    const overHttp = await gql(t, manyAliases, {}, u.token).expect(400);
    expect(overHttp.body.data).toBeUndefined();
    const conn = trackedGqlWs(t, u.token);
    await conn.connected;
    const overWs = await conn.run(manyAliases);
    expect(overWs.data).toBeUndefined();
    expect(overWs.errors?.length).toBeGreaterThan(0);
    expect(overWs.errors?.[0].extensions).toMatchObject({ code: 'BAD_REQUEST' });
    // The connection stays usable for a sane operation.
    expect((await conn.run('{ me { id } }')).data?.me.id).toBe(u.id);
  });

  it('closes a connection that sends a frame over the size limit (1009)', async () => {
    const u = await registerUser(t);
    const ws = new WebSocket(t.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await new Promise((r) => ws.once('open', r));
    const acked = new Promise((r) => ws.once('message', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${u.token}` } }));
    expect(JSON.parse(String(await acked)).type).toBe('connection_ack');
    const padding = 'x'.repeat(200_000);
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ me { id } } # ${padding}` } }));
    expect(await closed).toBe(1009);
  });

  it('caps concurrent operations per connection', async () => {
    const u = await registerUser(t);
    const conn = trackedGqlWs(t, u.token);
    await conn.connected;
    const errors: unknown[] = [];
    const subs = ['userUpdated { id }', 'notificationAdded { id }', 'balanceUpdated { userId }'].map((s) =>
      conn.client.subscribe({ query: `subscription { ${s} }` }, { next: () => undefined, error: (e) => errors.push(e), complete: () => undefined }),
    );
    const extra = await conn.run('{ me { id } }');
    expect(extra.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(extra.errors?.[0].message).toMatch(/concurrent operations/i);
    subs[0]();
    expect((await conn.run('{ me { id } }')).data?.me.id).toBe(u.id);
    expect(errors).toEqual([]);
  });

  it('rate-limits operations per user across connections, with a retry hint', async () => {
    const u = await registerUser(t);
    const one = trackedGqlWs(t, u.token);
    const two = trackedGqlWs(t, u.token);
    await Promise.all([one.connected, two.connected]);
    const limit = 12;
    for (let i = 0; i < limit; i++) {
      const r = await (i % 2 ? one : two).run('{ me { id } }');
      expect(r.errors).toBeUndefined();
    }
    const refused = await one.run('{ me { id } }');
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.errors?.[0].extensions.details.retryAfterSeconds).toBeGreaterThan(0);
    // Another user is not affected.
    const v = await registerUser(t);
    const three = trackedGqlWs(t, v.token);
    await three.connected;
    expect((await three.run('{ me { id } }')).data?.me.id).toBe(v.id);
  });
});
