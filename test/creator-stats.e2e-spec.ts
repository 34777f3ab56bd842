import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, eventually, gql, gqlWs, http, loginAdmin, registerUser, subscribe, TestUser, waitForGqlSubscriber } from './harness/clients';
import { deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { StatsService } from '../src/modules/creator/stats.service';

const NIL = '00000000-0000-4000-8000-000000000000';
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creator economy, part 2: stats from real watch sessions, tips and follows (with the 30-day
 * series), who may read them (REST, GraphQL, subscription), creatorStatsUpdated throttled
 * across two instances, public top content, and milestones achieved exactly once.
 * Heartbeat spacing and clock tolerance are shortened so watching takes about a second.
 */
describe('creator: stats, top content and milestones', () => {
  const env = { TIP_FEE_BPS: '100', WATCH_HEARTBEAT_MIN_INTERVAL_MS: '200', WATCH_CLOCK_TOLERANCE_MS: '300' };
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
  const follow = (u: TestUser, creatorId: string, t: TestApp = a) => http(t).post(`/api/creator/${creatorId}/follow`).set(auth(u)).expect(200);
  const tip = (u: TestUser, creatorId: string, body: Record<string, unknown>, t: TestApp = a) =>
    http(t).post(`/api/creator/${creatorId}/tips`).set(auth(u)).send(body).expect(201);
  const video = async (creator: TestUser, title: string) =>
    (await http(a).post('/api/videos').set(auth(creator)).send({ title, url: `https://cdn.example.com/${encodeURIComponent(title)}.mp4`, durationSeconds: 30 }).expect(201)).body;
  const session = async (u: TestUser, videoId: string) => (await http(a).post(`/api/videos/${videoId}/sessions`).set(auth(u)).expect(201)).body.sessionId as string;
  const heartbeat = async (u: TestUser, videoId: string, sessionId: string, t: TestApp = a) =>
    (await http(t).post(`/api/videos/${videoId}/sessions/${sessionId}/heartbeat`).set(auth(u)).send({ positionSeconds: 1, playing: true }).expect(200)).body;
  const stats = (u: TestUser, creatorId: string, t: TestApp = a) => http(t).get(`/api/creator/stats/${creatorId}`).set(auth(u));
  const today = () => new Date().toISOString().slice(0, 10);

  it('computes stats, the 30-day series and top content from real watching, tips and follows', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const [v1, v2] = [await video(creator, 'First'), await video(creator, 'Second')];
    const [w1, w2, w3, idle] = await Promise.all([registerUser(a), registerUser(a), registerUser(a), registerUser(a)]);
    // Real watching: three sessions play for about a second; one never reports (not a view).
    const s = await Promise.all([session(w1, v1.id), session(w2, v1.id), session(w3, v2.id), session(idle, v2.id)]);
    await sleep(1000);
    const beats = await Promise.all([heartbeat(w1, v1.id, s[0]), heartbeat(w2, v1.id, s[1], b), heartbeat(w3, v2.id, s[2])]);
    const watched = beats.map((x) => x.watchedSeconds as number);
    expect(watched.every((x) => x > 0)).toBe(true);

    const fan = await registerUser(a);
    await deposit(a, admin, fan.id, 'USD', '100.00');
    await deposit(a, admin, fan.id, 'BTC', '1');
    await tip(fan, creator.id, { asset: 'USD', amount: '10.00' }); // fee 0.10, net 9.90
    await tip(fan, creator.id, { asset: 'BTC', amount: '0.00100000', videoId: v2.id }, b); // fee 0.00001000
    await follow(fan, creator.id);
    await follow(w1, creator.id, b);

    const st = (await stats(creator, creator.id).expect(200)).body;
    const watchSum = watched[0] + watched[1] + watched[2];
    expect(st).toMatchObject({
      creatorId: creator.id,
      followers: 2,
      totalViews: 3,
      earnings: [
        { asset: 'BTC', amount: '0.00099000' },
        { asset: 'USD', amount: '9.90' },
      ],
      tipsCount: 2,
      videosCount: 2,
      updatedAt: expect.any(String),
    });
    expect(st.totalWatchSeconds).toBeCloseTo(watchSum, 3);
    expect(st.series).toHaveLength(30);
    const last = st.series[29];
    expect(last).toMatchObject({ date: today(), followers: 2, newFollowers: 2, views: 3, tipsCount: 2, earnings: st.earnings });
    expect(last.watchSeconds).toBeCloseTo(watchSum, 3);
    for (let i = 0; i < 29; i++) {
      expect(Date.parse(st.series[i + 1].date) - Date.parse(st.series[i].date)).toBe(DAY);
      expect(st.series[i]).toMatchObject({ followers: 0, newFollowers: 0, views: 0, watchSeconds: 0, tipsCount: 0, earnings: [] });
    }
    // Milestones: the default ladder with progress, and an estimate from the last 7 days' rate
    // (2 followers in 7 days, 8 missing to 10: 28 days from now).
    const f10 = st.milestones.find((m: any) => m.metric === 'followers' && m.target === '10');
    expect(f10).toMatchObject({ current: '2', progress: 0.2, achievedAt: null, custom: false });
    expect(Date.parse(f10.estimatedAt) - Date.parse(st.updatedAt)).toBe(28 * DAY);
    expect(st.milestones.find((m: any) => m.metric === 'earnings' && m.target === '10.00')).toMatchObject({ asset: 'USD', current: '9.90', progress: 0.99 });
    expect(st.milestones.find((m: any) => m.metric === 'watch_hours' && m.target === '1.00')).toMatchObject({ current: '0.00', achievedAt: null });

    // Admins read them too, on either instance; GraphQL says the same.
    expect((await stats(admin, creator.id, b).expect(200)).body).toMatchObject({ followers: 2, totalViews: 3, tipsCount: 2 });
    const g = await gql(b, 'query($id: ID!) { creatorStats(creatorId: $id) { followers totalViews totalWatchSeconds tipsCount earnings { asset amount } series { date views } } }', { id: creator.id }, creator.token);
    expect(g.body.data.creatorStats).toMatchObject({ followers: 2, totalViews: 3, tipsCount: 2, earnings: st.earnings });
    expect(g.body.data.creatorStats.series).toHaveLength(30);

    // Top content: public, ranked as asked, bounded.
    const top = (q: string) => http(a).get(`/api/creator/${creator.id}/content/top${q}`);
    const byViews = (await top('').expect(200)).body;
    expect(byViews.map((x: any) => x.videoId)).toEqual([v1.id, v2.id]);
    expect(byViews[0]).toMatchObject({ title: 'First', views: 2, tips: [], tipsCount: 0, thumbnailUrl: null });
    expect(byViews[0].watchSeconds).toBeCloseTo(watched[0] + watched[1], 3);
    expect(byViews[1]).toMatchObject({ views: 1, tipsCount: 1, tips: [{ asset: 'BTC', amount: '0.00100000' }] });
    expect((await top('?by=tips').expect(200)).body.map((x: any) => x.videoId)).toEqual([v2.id, v1.id]);
    expect((await top('?by=watchTime&limit=1').expect(200)).body.map((x: any) => x.videoId)).toEqual([watched[0] + watched[1] >= watched[2] ? v1.id : v2.id]);
    expect(JSON.stringify((await top('?by=likes').expect(400)).body.message)).toMatch(/by must be one of views, watchTime, tips/);
    expect(JSON.stringify((await top('?limit=51').expect(400)).body.message)).toMatch(/limit/);
    await top('?limit=abc').expect(400);
    await http(a).get(`/api/creator/${NIL}/content/top`).expect(404);
    await http(a).get(`/api/creator/${fan.id}/content/top`).expect(404);
    await http(a).get('/api/creator/nope/content/top').expect(400);
    const gt = await gql(a, 'query($id: ID!) { creatorTopContent(creatorId: $id, by: "tips", limit: 1) { videoId tipsCount } }', { id: creator.id });
    expect(gt.body.data.creatorTopContent).toEqual([{ videoId: v2.id, tipsCount: 1 }]);
  });

  it('refuses stats, tips and milestones to strangers on REST, GraphQL and the subscription', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const stranger = await registerUser(a, { role: 'creator' });
    await stats(stranger, creator.id).expect(403);
    await stats(stranger, NIL).expect(403);
    await http(a).get(`/api/creator/stats/${creator.id}`).expect(401);
    await http(a).get(`/api/creator/${creator.id}/milestones`).set(auth(stranger)).expect(403);
    await http(a).post(`/api/creator/${creator.id}/milestones`).set(auth(stranger)).send({ metric: 'followers', target: '5' }).expect(403);
    await http(a).post(`/api/creator/${creator.id}/milestones`).set(auth(admin)).send({ metric: 'followers', target: '5' }).expect(403);
    await stats(admin, NIL).expect(404);
    await stats(admin, stranger.id).expect(200);
    await stats(creator, 'not-a-uuid').expect(400);
    for (const q of [
      'query($id: ID!) { creatorStats(creatorId: $id) { followers } }',
      'query($id: ID!) { creatorMilestones(creatorId: $id) { id } }',
      'query($id: ID!) { creatorTips(creatorId: $id) { items { id } } }',
    ]) {
      const r = await gql(a, q, { id: creator.id }, stranger.token);
      expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(r.body.data).toBeNull();
    }
    const sub = subscribe(gqlWs(b, stranger.token), 'subscription($id: ID!) { creatorStatsUpdated(creatorId: $id) { followers } }', { id: creator.id });
    const refused = (await sub.next()) as any;
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors[0].extensions.code).toBe('FORBIDDEN');
    // No stranger is subscribed to the creator's topic.
    const Redis = (await import('ioredis')).default;
    const r = new Redis(a.config.redis.url!, { maxRetriesPerRequest: 1 });
    try {
      expect((await r.call('PUBSUB', 'NUMSUB', `${a.prefix}:gql:creator:stats:${creator.id}`)) as [string, number]).toEqual([`${a.prefix}:gql:creator:stats:${creator.id}`, 0]);
    } finally {
      r.disconnect();
    }
  });

  it('publishes creatorStatsUpdated once per interval however busy, from one instance to all, ending with the last change', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const fans = await Promise.all(Array.from({ length: 12 }, () => registerUser(a)));
    const tipper = await registerUser(a);
    await deposit(a, admin, tipper.id, 'USD', '10.00');
    const query = 'subscription($id: ID!) { creatorStatsUpdated(creatorId: $id) { followers tipsCount updatedAt milestones { metric target achievedAt } } }';
    const subA = subscribe(gqlWs(a, creator.token), query, { id: creator.id });
    const subB = subscribe(gqlWs(b, admin.token), query, { id: creator.id });
    await waitForGqlSubscriber(a, `creator:stats:${creator.id}`, 2);

    // 16 changes at once, on both instances.
    await Promise.all([
      ...fans.map((f, i) => follow(f, creator.id, i % 2 ? b : a)),
      ...Array.from({ length: 4 }, (_, i) => tip(tipper, creator.id, { asset: 'USD', amount: '1.00' }, i % 2 ? b : a)),
    ]);
    const drain = async (sub: ReturnType<typeof subscribe>) => {
      const seen: any[] = [];
      for (;;) {
        const p = ((await sub.next(10_000)) as any).data.creatorStatsUpdated;
        seen.push(p);
        if (p.followers === 12 && p.tipsCount === 4) return seen;
      }
    };
    const [onA, onB] = await Promise.all([drain(subA), drain(subB)]);
    // Far fewer payloads than changes, and the same ones on both instances: one publisher, not one per instance.
    expect(onA.length).toBeLessThan(16);
    // Each payload is stamped when its computation started: never two within the interval (1 s).
    const stamps = onA.map((p) => Date.parse(p.updatedAt));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i] - stamps[i - 1]).toBeGreaterThanOrEqual(1000);
    expect(onA.map((p) => p.updatedAt)).toEqual(onB.map((p) => p.updatedAt));
    // The 10-follower milestone was crossed in the burst and is in the last payload.
    expect(onA[onA.length - 1].milestones.find((m: any) => m.metric === 'followers' && m.target === '10').achievedAt).toEqual(expect.any(String));
  });

  it('achieves a milestone exactly once when several changes cross it at the same moment', async () => {
    const creator = await registerUser(a, { role: 'creator' });
    const add = (body: Record<string, unknown>, u: TestUser = creator) => http(a).post(`/api/creator/${creator.id}/milestones`).set(auth(u)).send(body);
    const custom = (await add({ metric: 'followers', target: '3' }).expect(201)).body;
    expect(custom).toEqual({
      id: expect.any(String),
      metric: 'followers',
      asset: null,
      target: '3',
      current: '0',
      progress: 0,
      achievedAt: null,
      estimatedAt: null,
      custom: true,
    });
    expect((await add({ metric: 'followers', target: '3' }).expect(201)).body.id).toBe(custom.id);
    expect((await add({ metric: 'earnings', target: '0.5', asset: 'BTC' }).expect(201)).body).toMatchObject({ asset: 'BTC', target: '0.50000000', custom: true });
    expect((await add({ metric: 'watch_hours', target: '2.5' }).expect(201)).body).toMatchObject({ target: '2.50', current: '0.00' });
    for (const [body, msg] of [
      [{ metric: 'likes', target: '3' }, /metric must be one of/],
      [{ metric: 'followers', target: '0' }, /target must be greater than zero/],
      [{ metric: 'followers', target: 'many' }, /target/],
      [{ metric: 'followers' }, /target/],
      [{ metric: 'followers', target: '5', asset: 'USD' }, /asset is only for earnings/],
      [{ metric: 'earnings', target: '1', asset: 'XYZ' }, /asset must be one of/],
      [{ metric: 'followers', target: '5', extra: 1 }, /extra/],
    ] as const) {
      expect(JSON.stringify((await add(body as any).expect(400)).body.message)).toMatch(msg);
    }

    // Six follows at once cross 3: each one checks the milestones after its commit.
    const fans = await Promise.all(Array.from({ length: 6 }, () => registerUser(a)));
    await Promise.all(fans.map((f, i) => follow(f, creator.id, i % 2 ? b : a)));
    const ms = async () => (await http(a).get(`/api/creator/${creator.id}/milestones`).set(auth(creator)).expect(200)).body;
    const achieved = await eventually(async () => (await ms()).find((m: any) => m.id === custom.id && m.achievedAt));
    expect(achieved).toMatchObject({ current: '6', progress: 1, estimatedAt: null });
    const notes = async () => (await ds.query(`SELECT id FROM notifications WHERE user_id = $1 AND type = 'milestone' AND data->>'milestoneId' = $2`, [creator.id, custom.id])).length;
    await eventually(async () => (await notes()) > 0);

    // Twenty checks at once (both instances) on a milestone that is already crossed: one wins.
    const [row] = await ds.query(`INSERT INTO creator_milestones (creator_id, metric, asset, target, custom) VALUES ($1, 'followers', '', 5, true) RETURNING id`, [creator.id]);
    const services = [a.app.get(StatsService), b.app.get(StatsService)];
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => services[i % 2].achieve(creator.id)));
    expect(results.flat().filter((m) => m.id === row.id)).toHaveLength(1);
    const [once] = await ds.query(`SELECT achieved_at FROM creator_milestones WHERE id = $1`, [row.id]);
    expect(once.achieved_at).not.toBeNull();

    // Later changes never move achievedAt, and it was announced exactly once.
    await follow(await registerUser(a), creator.id);
    await eventually(async () => (await ms()).find((m: any) => m.metric === 'followers' && m.target === '3').current === '7');
    expect((await ms()).find((m: any) => m.id === custom.id).achievedAt).toBe(achieved.achievedAt);
    expect(await notes()).toBe(1);
    // The ladder is there too, open ones with an estimate.
    const list = await ms();
    expect(list.filter((m: any) => !m.custom).map((m: any) => `${m.metric}:${m.target}`)).toEqual(
      expect.arrayContaining(['followers:10', 'followers:100', 'views:100', 'watch_hours:1.00', 'earnings:10.00']),
    );
    expect(list.find((m: any) => m.metric === 'followers' && m.target === '10').estimatedAt).toEqual(expect.any(String));
    const g = await gql(a, 'query($id: ID!) { creatorMilestones(creatorId: $id) { id achievedAt custom } }', { id: creator.id }, admin.token);
    expect(g.body.data.creatorMilestones.find((m: any) => m.id === custom.id)).toEqual({ id: custom.id, achievedAt: achieved.achievedAt, custom: true });

    // Own targets are bounded (they travel in every stats payload): 50 at most.
    const have = (await ms()).filter((m: any) => m.custom).length;
    for (let i = have; i < 50; i++) await add({ metric: 'views', target: String(1000 + i) }).expect(201);
    expect((await add({ metric: 'views', target: '999999' }).expect(422)).body.message).toMatch(/at most 50 milestones/);
  });
});
