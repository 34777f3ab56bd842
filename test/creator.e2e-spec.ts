import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import {
  closeClients,
  connectSocket,
  eventually,
  gql,
  gqlWs,
  http,
  loginAdmin,
  nextEvent,
  registerUser,
  subscribe,
  TestUser,
  waitForGqlSubscriber,
} from './harness/clients';
import { balanceOf, deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';

const NIL = '00000000-0000-4000-8000-000000000000';

/**
 * Creator economy, part 1: follows (idempotent, the follow reward once), tips through the
 * ledger with TIP_FEE_BPS (fee as its own movement, Idempotency-Key replay and 409, self-tips,
 * a race for a small balance), tip_received across two instances, GraphQL tipReceived, the
 * tip notification, and bad input.
 */
describe('creator: follows and tips', () => {
  const env = { TIP_FEE_BPS: '250' };
  let a: TestApp;
  let b: TestApp;
  let admin: TestUser;
  let ds: DataSource;

  beforeAll(async () => {
    a = await startTestApp({ env });
    b = await startTestApp({ shareWith: a, env });
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

  const auth = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });
  const follow = (u: TestUser, creatorId: string, t: TestApp = a) => http(t).post(`/api/creator/${creatorId}/follow`).set(auth(u));
  const unfollow = (u: TestUser, creatorId: string, t: TestApp = a) => http(t).delete(`/api/creator/${creatorId}/follow`).set(auth(u));
  const tip = (u: TestUser, creatorId: string, body: Record<string, unknown>, key?: string, t: TestApp = a) => {
    const r = http(t).post(`/api/creator/${creatorId}/tips`).set(auth(u));
    if (key) r.set('idempotency-key', key);
    return r.send(body);
  };
  const funded = async (asset: string, amount: string) => {
    const u = await registerUser(a);
    await deposit(a, admin, u.id, asset, amount);
    return u;
  };
  const fees = async (asset: string) =>
    BigInt((await ds.query(`SELECT posted FROM ledger_accounts WHERE account_key = $1`, [`system:fees:${asset}`]))[0]?.posted ?? '0');

  it('follows idempotently, counts followers, and pays the follow reward once per fan and creator', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const fan = await registerUser(a);
    const other = await registerUser(a);

    const first = (await follow(fan, creator.id).expect(200)).body;
    expect(first).toEqual({ creatorId: creator.id, username: creator.username, followers: 1, following: true });
    // Repeats (on either instance, and concurrently) change nothing.
    const again = await Promise.all([follow(fan, creator.id), follow(fan, creator.id, b), follow(fan, creator.id)]);
    expect(again.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(again.map((r) => r.body.followers)).toEqual([1, 1, 1]);
    await follow(other, creator.id, b).expect(200);

    const seen = (await http(a).get(`/api/creator/${creator.id}/profile`).set(auth(other)).expect(200)).body;
    expect(seen).toEqual({ creatorId: creator.id, username: creator.username, followers: 2, following: true });
    const byCreator = (await http(a).get(`/api/creator/${creator.id}/profile`).set(auth(creator)).expect(200)).body;
    expect(byCreator.following).toBe(false);

    // Unfollow, follow again: the reward is not paid twice.
    expect((await unfollow(fan, creator.id).expect(200)).body).toMatchObject({ followers: 1, following: false });
    expect((await unfollow(fan, creator.id, b).expect(200)).body).toMatchObject({ followers: 1, following: false });
    expect((await follow(fan, creator.id).expect(200)).body).toMatchObject({ followers: 2, following: true });
    const rewards = await ds.query(`SELECT id, status FROM rewards WHERE user_id = $1 AND action = 'follow'`, [fan.id]);
    expect(rewards).toHaveLength(1);
    await eventually(async () => (await ds.query(`SELECT status FROM rewards WHERE id = $1`, [rewards[0].id]))[0].status === 'paid', { timeoutMs: 10_000 });
    expect((await balanceOf(a, fan, 'SOFT')).total).toBe('0.20000000');
    // The follow reward is the server's to grant: claiming it directly is refused, followed or not.
    const claim = await http(a).post('/api/rewards/trigger').set(auth(fan)).send({ action: 'follow', targetId: creator.id }).expect(400);
    expect(claim.body.message).toMatch(/granted by the server/);

    // Follow history: +1, +1, -1, +1.
    const events = await ds.query(`SELECT delta FROM creator_follow_events WHERE creator_id = $1 ORDER BY id`, [creator.id]);
    expect(events.map((e: any) => e.delta)).toEqual([1, 1, -1, 1]);

    // A new fan's first follow sent five times at once (both instances): one follow, one reward.
    const eager = await registerUser(a);
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => follow(eager, creator.id, i % 2 ? b : a)));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await http(a).get(`/api/creator/${creator.id}/profile`).set(auth(eager)).expect(200)).body).toMatchObject({ followers: 3, following: true });
    expect(await ds.query(`SELECT id FROM rewards WHERE user_id = $1 AND action = 'follow'`, [eager.id])).toHaveLength(1);
    await unfollow(eager, creator.id).expect(200);

    // GraphQL: the same rules.
    const g = await gql(a, 'mutation($id: ID!) { unfollowCreator(creatorId: $id) { followers following } }', { id: creator.id }, other.token);
    expect(g.body.data.unfollowCreator).toEqual({ followers: 1, following: false });
    const g2 = await gql(a, 'mutation($id: ID!) { followCreator(creatorId: $id) { followers following } }', { id: creator.id }, other.token);
    expect(g2.body.data.followCreator).toEqual({ followers: 2, following: true });
  });

  it('never follows oneself or a non-creator, and refuses bad ids', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const plain = await registerUser(a);
    expect((await follow(creator, creator.id).expect(422)).body.message).toBe('You cannot follow yourself');
    await unfollow(creator, creator.id).expect(422);
    expect((await follow(creator, plain.id).expect(404)).body.message).toBe('Creator not found');
    await follow(plain, NIL).expect(404);
    await unfollow(plain, NIL).expect(404);
    expect(JSON.stringify((await follow(plain, 'not-a-uuid').expect(400)).body.message)).toMatch(/uuid/i);
    await http(a).post(`/api/creator/${creator.id}/follow`).expect(401);
    await http(a).get(`/api/creator/${plain.id}/profile`).set(auth(creator)).expect(404);
    const g = await gql(a, 'mutation($id: ID!) { followCreator(creatorId: $id) { followers } }', { id: creator.id }, creator.token);
    expect(g.body.errors[0].extensions.code).toBe('UNPROCESSABLE');
  });

  it('lists creators, most followed first, cursor paged, with whether the caller follows them', async () => {
    const c1 = await registerUser(a, { role: 'creator' });
    const c2 = await registerUser(a, { role: 'creator' });
    const fans = await Promise.all([registerUser(a), registerUser(a), registerUser(a)]);
    for (const f of fans) await follow(f, c1.id).expect(200);
    await follow(fans[0], c2.id).expect(200);
    const viewer = fans[1];
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page: any = (await http(a).get(`/api/creators${q}`).set(auth(viewer)).expect(200)).body;
      expect(page.items.length).toBeLessThanOrEqual(2);
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(all.map((c) => c.creatorId)).size).toBe(all.length);
    const followers = all.map((c) => c.followers);
    expect([...followers].sort((x, y) => y - x)).toEqual(followers);
    expect(all.find((c) => c.creatorId === c1.id)).toEqual({ creatorId: c1.id, username: c1.username, followers: 3, following: true });
    expect(all.find((c) => c.creatorId === c2.id)).toMatchObject({ followers: 1, following: false });
    expect(all.some((c) => fans.some((f) => f.id === c.creatorId))).toBe(false);
    await http(a).get('/api/creators?cursor=garbage').set(auth(viewer)).expect(400);
    await http(a).get('/api/creators?limit=0').set(auth(viewer)).expect(400);
    await http(a).get('/api/creators').expect(401);
    const g = await gql(a, '{ creators(limit: 1) { items { creatorId followers } nextCursor } }', {}, viewer.token);
    expect(g.body.data.creators.items).toHaveLength(1);
  });

  it('moves a tip through the ledger with the fee as its own movement, and lists it with gross amount and fee', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const fan = await funded('USD', '100.00');
    const feesBefore = await fees('USD');
    const video = (await http(a).post('/api/videos').set(auth(creator)).send({ title: 'Tipped', url: 'https://cdn.example.com/t.mp4', durationSeconds: 10 }).expect(201)).body;

    const res = await tip(fan, creator.id, { asset: 'USD', amount: '10.00', message: 'great stream!', videoId: video.id }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      creatorId: creator.id,
      fromUserId: fan.id,
      fromUsername: fan.username,
      asset: 'USD',
      amount: '10.00',
      fee: '0.25',
      net: '9.75',
      message: 'great stream!',
      videoId: video.id,
      createdAt: expect.any(String),
    });
    expect((await balanceOf(a, fan, 'USD')).total).toBe('90.00');
    expect((await balanceOf(a, creator, 'USD')).total).toBe('9.75');
    expect((await fees('USD')) - feesBefore).toBe(25n);
    // The fan's history shows the tip and the fee as two movements.
    const history = (await http(a).get(`/api/wallet/${fan.id}/transactions?asset=USD`).set(auth(fan)).expect(200)).body.items;
    expect(history.slice(0, 2).map((t: any) => [t.type, t.amount, t.reference]).sort()).toEqual([
      ['fee', '-0.25', res.body.id],
      ['tip', '-9.75', res.body.id],
    ]);

    const list = (await http(a).get(`/api/creator/${creator.id}/tips`).set(auth(creator)).expect(200)).body;
    expect(list).toEqual({ items: [res.body], nextCursor: null });
    expect((await http(b).get(`/api/creator/${creator.id}/tips`).set(auth(admin)).expect(200)).body.items[0].id).toBe(res.body.id);
    await http(a).get(`/api/creator/${creator.id}/tips`).set(auth(fan)).expect(403);
    await http(a).get(`/api/creator/${NIL}/tips`).set(auth(fan)).expect(403);
    await http(a).get(`/api/creator/${NIL}/tips`).set(auth(admin)).expect(404);
    const g = await gql(a, 'query($id: ID!) { creatorTips(creatorId: $id) { items { id amount fee net fromUsername } nextCursor } }', { id: fan.id }, creator.token);
    expect(g.body.errors[0].extensions.code).toBe('FORBIDDEN');

    // Paging: newest first.
    await tip(fan, creator.id, { asset: 'USD', amount: '1.00' }).expect(201);
    await tip(fan, creator.id, { asset: 'USD', amount: '2.00' }).expect(201);
    const p1 = (await http(a).get(`/api/creator/${creator.id}/tips?limit=2`).set(auth(creator)).expect(200)).body;
    expect(p1.items.map((t: any) => t.amount)).toEqual(['2.00', '1.00']);
    const p2 = (await http(a).get(`/api/creator/${creator.id}/tips?limit=2&cursor=${p1.nextCursor}`).set(auth(creator)).expect(200)).body;
    expect(p2).toEqual({ items: [res.body], nextCursor: null });
  });

  it('replays a tip with the same Idempotency-Key, 409 with another body, and moves nothing twice', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const fan = await funded('USD', '50.00');
    const first = await tip(fan, creator.id, { asset: 'USD', amount: '5.00' }, 'tip-key-1').expect(201);
    const replay = await tip(fan, creator.id, { asset: 'USD', amount: '5.00' }, 'tip-key-1', b).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    const other = await tip(fan, creator.id, { asset: 'USD', amount: '6.00' }, 'tip-key-1').expect(409);
    expect(other.body.message).toMatch(/Idempotency-Key/);
    expect((await balanceOf(a, fan, 'USD')).total).toBe('45.00');
    // GraphQL with an idempotency key: the second call returns the first tip.
    const m = 'mutation($id: ID!, $k: String) { tipCreator(creatorId: $id, input: { asset: "USD", amount: "1.00" }, idempotencyKey: $k) { id amount fee } }';
    const g1 = (await gql(a, m, { id: creator.id, k: 'gql-tip-1' }, fan.token)).body.data.tipCreator;
    const g2 = (await gql(b, m, { id: creator.id, k: 'gql-tip-1' }, fan.token)).body.data.tipCreator;
    expect(g2).toEqual(g1);
    expect(g1).toMatchObject({ amount: '1.00', fee: '0.03' });
    const g3 = await gql(a, m.replace('"1.00"', '"2.00"'), { id: creator.id, k: 'gql-tip-1' }, fan.token);
    expect(g3.body.errors[0].extensions.code).toBe('CONFLICT');
    expect((await balanceOf(a, fan, 'USD')).total).toBe('44.00');
    expect((await http(a).get(`/api/creator/${creator.id}/tips`).set(auth(creator)).expect(200)).body.items).toHaveLength(2);
  });

  it('refuses self-tips, unknown creators, insufficient funds (nothing moved) and malformed bodies', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    await deposit(a, admin, creator.id, 'USD', '10.00');
    const fan = await funded('USD', '1.00');
    const plain = await registerUser(a);
    expect((await tip(creator, creator.id, { asset: 'USD', amount: '1.00' }).expect(422)).body.message).toBe('You cannot tip yourself');
    await tip(fan, plain.id, { asset: 'USD', amount: '1.00' }).expect(404);
    await tip(fan, NIL, { asset: 'USD', amount: '1.00' }).expect(404);
    const broke = await tip(fan, creator.id, { asset: 'USD', amount: '5.00' }).expect(422);
    expect(broke.body).toMatchObject({ statusCode: 422, message: 'Insufficient USD balance: 5.00 USD needed' });
    expect((await balanceOf(a, fan, 'USD')).total).toBe('1.00');
    // 1.00 passes for the creator's share (0.97) but not with the fee on it: still nothing moves.
    await tip(fan, creator.id, { asset: 'USD', amount: '1.01' }).expect(422);
    expect((await balanceOf(a, fan, 'USD')).total).toBe('1.00');
    expect((await http(a).get(`/api/creator/${creator.id}/tips`).set(auth(creator)).expect(200)).body.items).toEqual([]);

    const bad = async (body: unknown, field: RegExp) => {
      const r = await tip(fan, creator.id, body as Record<string, unknown>).expect(400);
      expect(JSON.stringify(r.body.message)).toMatch(field);
    };
    await bad({ asset: 'DOGE', amount: '1' }, /asset/);
    await bad({ asset: 'USD', amount: 1 }, /amount/);
    await bad({ asset: 'USD', amount: '-1' }, /amount/);
    await bad({ asset: 'USD', amount: '0' }, /amount/);
    await bad({ asset: 'USD', amount: '1.001' }, /amount/);
    await bad({ asset: 'USD' }, /amount/);
    await bad({ asset: 'USD', amount: '0.10', message: 'x'.repeat(281) }, /message must be at most 280 characters/);
    await bad({ asset: 'USD', amount: '0.10', message: 7 }, /message/);
    await bad({ asset: 'USD', amount: '0.10', videoId: 'nope' }, /videoId/);
    await bad({ asset: 'USD', amount: '0.10', extra: true }, /extra/);
    await bad([], /asset|amount/);
    const otherCreator = await registerUser(a, { role: 'creator' });
    const theirs = (await http(a).post('/api/videos').set(auth(otherCreator)).send({ title: 'Theirs', url: 'https://cdn.example.com/o.mp4', durationSeconds: 5 }).expect(201)).body;
    await bad({ asset: 'USD', amount: '0.10', videoId: theirs.id }, /videoId/);
    await tip(fan, creator.id, { asset: 'USD', amount: '0.10', videoId: NIL }).expect(404);
    await tip(fan, creator.id, { asset: 'USD', amount: '0.10' }, 'bad key with spaces').expect(400);
    await http(a).post(`/api/creator/${creator.id}/tips`).send({ asset: 'USD', amount: '0.10' }).expect(401);
    // A message of 280 emoji is 280 characters: accepted.
    await deposit(a, admin, fan.id, 'USD', '1.00');
    expect((await tip(fan, creator.id, { asset: 'USD', amount: '0.10', message: '🎉'.repeat(280) }).expect(201)).body.message).toBe('🎉'.repeat(280));
  });

  it('lets exactly the affordable number of 20 racing tips through, never below zero', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const fan = await funded('USD', '5.00');
    // Each tip costs 1.00 gross (0.97 to the creator, 0.03 fee: fees round up to the next cent): five are affordable.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => tip(fan, creator.id, { asset: 'USD', amount: '1.00' }, undefined, i % 2 ? b : a)));
    const codes = results.map((r) => r.status);
    expect(codes.filter((c) => c === 201)).toHaveLength(5);
    expect(codes.filter((c) => c === 422)).toHaveLength(15);
    const bal = await balanceOf(a, fan, 'USD');
    expect(bal).toMatchObject({ total: '0.00', available: '0.00', held: '0.00' });
    expect((await balanceOf(a, creator, 'USD')).total).toBe('4.85');
    const [{ n }] = await ds.query(`SELECT COUNT(*)::int AS n FROM creator_tips WHERE creator_id = $1`, [creator.id]);
    expect(n).toBe(5);
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
  });

  it('tells the creator on every instance: tip_received, GraphQL tipReceived and a tip notification', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const fan = await funded('BTC', '1');
    const sockA = await connectSocket(a, creator.token);
    const sockB = await connectSocket(b, creator.token);
    const fanSock = await connectSocket(a, fan.token);
    let fanHeard = 0;
    fanSock.on('tip_received', () => (fanHeard += 1));
    const sub = subscribe(gqlWs(b, creator.token), 'subscription { tipReceived { id creatorId fromUserId asset amount fee net message } }');
    await waitForGqlSubscriber(b, `creator:tips:${creator.id}`);

    const onA = nextEvent(sockA, 'tip_received');
    const onB = nextEvent(sockB, 'tip_received');
    const sent = (await tip(fan, creator.id, { asset: 'BTC', amount: '0.01000000', message: 'gm' }, undefined, a).expect(201)).body;
    expect((await onA).tip).toEqual(sent);
    expect((await onB).tip).toEqual(sent);
    expect(await sub.next()).toEqual({
      data: { tipReceived: { id: sent.id, creatorId: creator.id, fromUserId: fan.id, asset: 'BTC', amount: '0.01000000', fee: '0.00025000', net: '0.00975000', message: 'gm' } },
    });
    const inbox = await eventually(async () => {
      const r = (await http(a).get(`/api/notifications/${creator.id}`).set(auth(creator)).expect(200)).body;
      return r.items.find((n: any) => n.type === 'tip');
    });
    expect(inbox).toMatchObject({ type: 'tip', data: { tipId: sent.id, asset: 'BTC', amount: '0.01000000' }, read: false });
    expect(inbox.title).toContain(fan.username);
    expect(fanHeard).toBe(0);
  });
});
