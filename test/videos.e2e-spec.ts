import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { dbUrl, TEST_REDIS_URL } from './harness/env';
import {
  closeClients,
  collect,
  connectSocket,
  emitAck,
  eventually,
  gql,
  gqlWs,
  http,
  loginAdmin,
  registerUser,
  subscribe,
  TestUser,
  waitForGqlSubscriber,
} from './harness/clients';
import { balanceOf } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Watch2Earn end to end: publishing, verified watching (honest and cheating sessions), ad
 * rewards, analytics figures, and live viewer counts across instances (one of them killed).
 * Heartbeat spacing, clock tolerance and viewer heartbeats are shortened so nothing sleeps long.
 */
describe('videos and Watch2Earn', () => {
  const env = {
    WATCH_HEARTBEAT_MIN_INTERVAL_MS: '200',
    WATCH_CLOCK_TOLERANCE_MS: '300',
    VIEWERS_HEARTBEAT_MS: '200',
    VIEWERS_TTL_MS: '1000',
    // The ads here last a second; the platform's minimum ad length (default 5 s) is lowered to that.
    REWARDS_MIN_AD_SECONDS: '1',
  };
  let a: TestApp;
  let b: TestApp;
  let admin: TestUser;
  let creator: TestUser;
  let ds: DataSource;
  let child: ChildProcess | undefined;
  /** A third instance in its own process, booting while the other tests run (it is killed in the last one). */
  let childReady: Promise<{ url: string }>;

  beforeAll(async () => {
    a = await startTestApp({ env });
    b = await startTestApp({ shareWith: a, env });
    childReady = startChild();
    childReady.catch(() => undefined);
    admin = await loginAdmin(a);
    creator = await registerUser(a, { role: 'creator' });
    ds = a.app.get(getDataSourceToken());
  });

  afterAll(async () => {
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await b.close();
    await a.close();
  });

  const auth = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });
  const createVideo = (body: Record<string, unknown>, u: TestUser = creator) => http(a).post('/api/videos').set(auth(u)).send(body);
  const startSession = async (u: TestUser, videoId: string, t: TestApp = a) =>
    (await http(t).post(`/api/videos/${videoId}/sessions`).set(auth(u)).expect(201)).body.sessionId as string;
  const heartbeat = (u: TestUser, videoId: string, sessionId: string, body: Record<string, unknown>, t: TestApp = a) =>
    http(t).post(`/api/videos/${videoId}/sessions/${sessionId}/heartbeat`).set(auth(u)).send(body);
  const claimMilestone = (u: TestUser, body: Record<string, unknown>) => http(a).post('/api/rewards/watch-milestone').set(auth(u)).send(body);
  const claimAd = (u: TestUser, body: Record<string, unknown>) => http(a).post('/api/rewards/ad-view').set(auth(u)).send(body);
  /** The admin rule caps what one claim pays (issue 11): raised where a video attaches more than the default. */
  const allowUpTo = (action: 'watch_milestone' | 'ad_view', amount: string) =>
    http(a).patch(`/api/admin/rewards/rules/${action}`).set(auth(admin)).send({ amount }).expect(200);
  const waitPaid = (id: string) =>
    eventually(async () => (await ds.query(`SELECT status FROM rewards WHERE id = $1`, [id]))[0]?.status === 'paid', { timeoutMs: 10_000 });

  it('lets creators publish videos with ads and milestones, and anyone list and read them', async () => {
    const viewer = await registerUser(a);
    const body = {
      title: 'Intro to SOFT',
      url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
      durationSeconds: 120.5,
      ads: [
        { position: 'pre', durationSeconds: 5, reward: '0.2' },
        { position: 'mid', offsetSeconds: 60, durationSeconds: 10 },
        { position: 'post', durationSeconds: 5, reward: '0.25' },
      ],
      milestones: [{ percent: 100, reward: '1' }, { percent: 50 }],
    };
    await createVideo(body, viewer).expect(403);
    await http(a).post('/api/videos').send(body).expect(401);
    const res = await createVideo(body).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      creatorId: creator.id,
      creatorUsername: creator.username,
      title: 'Intro to SOFT',
      description: null,
      url: body.url,
      source: { provider: 'url', url: body.url },
      thumbnailUrl: 'https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg',
      durationSeconds: 120.5,
      viewerCount: 0,
      ads: [
        { id: expect.any(String), position: 'pre', offsetSeconds: 0, durationSeconds: 5, reward: '0.20000000' },
        { id: expect.any(String), position: 'mid', offsetSeconds: 60, durationSeconds: 10, reward: '0.20000000' },
        { id: expect.any(String), position: 'post', offsetSeconds: 120.5, durationSeconds: 5, reward: '0.25000000' },
      ],
      milestones: [
        { percent: 50, reward: '0.50000000' },
        { percent: 100, reward: '1.00000000' },
      ],
      createdAt: expect.any(String),
    });
    const cdn = await createVideo({ title: 'CDN cut', url: 'https://cdn.example.com/v/42.mp4', durationSeconds: 30, thumbnailUrl: 'https://cdn.example.com/v/42.jpg' }).expect(201);
    expect(cdn.body).toMatchObject({ thumbnailUrl: 'https://cdn.example.com/v/42.jpg', ads: [], milestones: [] });

    const bad = async (patch: Record<string, unknown>, msg: RegExp) => {
      const r = await createVideo({ ...body, ...patch }).expect(400);
      expect(JSON.stringify(r.body.message)).toMatch(msg);
    };
    await bad({ ads: [{ position: 'mid', durationSeconds: 5 }] }, /ads\[0\]\.offsetSeconds is required for a mid-roll/);
    await bad({ ads: [{ position: 'mid', offsetSeconds: 500, durationSeconds: 5 }] }, /strictly between 0 and durationSeconds/);
    await bad({ ads: [{ position: 'side', durationSeconds: 5 }] }, /position must be one of pre, mid, post/);
    await bad({ ads: [{ position: 'pre', durationSeconds: 5, reward: '11' }] }, /ads\[0\]\.reward must be at most 10\.00000000 SOFT/);
    await bad({ milestones: [{ percent: 50 }, { percent: 50 }] }, /distinct percents/);
    await bad({ milestones: [{ percent: 0 }] }, /percent must be an integer between 1 and 100/);
    await bad({ url: 'ftp://example.com/x' }, /url must be an http\(s\) URL/);
    await bad({ durationSeconds: 0 }, /durationSeconds/);
    await bad({ durationSeconds: '60' }, /durationSeconds/);

    const one = await http(a).get(`/api/videos/${res.body.id}`).expect(200);
    expect(one.body).toEqual(res.body);
    await http(a).get('/api/videos/00000000-0000-4000-8000-000000000000').expect(404);
    await http(a).get('/api/videos/not-a-uuid').expect(400);
    const page1 = (await http(a).get(`/api/videos?creatorId=${creator.id}&limit=1`).expect(200)).body;
    expect(page1.items.map((v: any) => v.id)).toEqual([cdn.body.id]);
    const page2 = (await http(b).get(`/api/videos?creatorId=${creator.id}&limit=1&cursor=${page1.nextCursor}`).expect(200)).body;
    expect(page2.items.map((v: any) => v.id)).toEqual([res.body.id]);
    const g = await gql(a, 'query($id: ID!) { video(videoId: $id) { id title durationSeconds ads { position offsetSeconds reward } milestones { percent } } }', {
      id: res.body.id,
    });
    expect(g.body.data.video).toMatchObject({ id: res.body.id, durationSeconds: 120.5, milestones: [{ percent: 50 }, { percent: 100 }] });
  });

  it('credits honest watching in real time and pays each milestone once', async () => {
    const v = (await createVideo({ title: 'Short', url: 'https://cdn.example.com/s.mp4', durationSeconds: 3, milestones: [{ percent: 50 }, { percent: 100, reward: '1' }] }).expect(201)).body;
    await allowUpTo('watch_milestone', '1');
    const viewer = await registerUser(a);
    const sessionId = await startSession(viewer, v.id);

    const early = await claimMilestone(viewer, { videoId: v.id, sessionId, percent: 50 }).expect(422);
    expect(early.body).toMatchObject({
      statusCode: 422,
      message: 'Not earned yet: this session shows 0 s of verified watching; the 50% milestone needs 1.5 s',
      details: { reason: 'milestone_not_reached', watchedSeconds: 0, requiredSeconds: 1.5 },
    });

    let last: any;
    for (const position of [1, 2, 3]) {
      await sleep(1000);
      last = (await heartbeat(viewer, v.id, sessionId, { positionSeconds: position, playing: true }, position === 2 ? b : a).expect(200)).body;
      expect(last.creditedSeconds).toBe(1);
    }
    expect(last).toMatchObject({ sessionId, status: 'active', positionSeconds: 3, watchedSeconds: 3, percentWatched: 100, completed: true, milestonesReached: [50, 100], seeks: 0 });

    const m50 = await claimMilestone(viewer, { videoId: v.id, sessionId, percent: 50 }).expect(202);
    expect(m50.body).toEqual({ rewardId: expect.any(String), status: 'queued', amount: '0.50000000' });
    const m100 = await claimMilestone(viewer, { videoId: v.id, sessionId, percent: 100 }).expect(202);
    expect(m100.body).toMatchObject({ status: 'queued', amount: '1.00000000' });
    const again = await claimMilestone(viewer, { videoId: v.id, sessionId, percent: 50 }).expect(202);
    expect(again.body).toMatchObject({ rewardId: m50.body.rewardId, status: 'duplicate', amount: '0.50000000' });
    // A new session of the same video cannot earn the same milestone again.
    const s2 = await startSession(viewer, v.id);
    expect((await claimMilestone(viewer, { videoId: v.id, sessionId: s2, percent: 50 }).expect(202)).body.status).toBe('duplicate');
    await claimMilestone(viewer, { videoId: v.id, sessionId, percent: 75 }).expect(400);

    await waitPaid(m50.body.rewardId);
    await waitPaid(m100.body.rewardId);
    expect((await balanceOf(a, viewer, 'SOFT')).total).toBe('1.50000000');
    const progress = (await http(a).get(`/api/videos/${v.id}/sessions/${sessionId}`).set(auth(viewer)).expect(200)).body;
    expect(progress).toMatchObject({ status: 'superseded', watchedSeconds: 3, completed: true });
  });

  it('does not pay cheaters: seeks, paused playback, parallel sessions, heartbeat floods, others’ sessions', async () => {
    const v = (await createVideo({ title: 'Target', url: 'https://cdn.example.com/t.mp4', durationSeconds: 20, milestones: [{ percent: 50 }] }).expect(201)).body;
    const cheat = await registerUser(a);
    const stranger = await registerUser(a);

    // Seek straight to the end: only the real time that passed counts.
    const opened = Date.now(); // before the session exists: an upper bound on its age
    const s1 = await startSession(cheat, v.id);
    await sleep(300);
    const seek = (await heartbeat(cheat, v.id, s1, { positionSeconds: 20, playing: true }).expect(200)).body;
    expect(seek.watchedSeconds).toBeLessThanOrEqual((Date.now() - opened) / 1000 + 0.3 + 0.01);
    expect(seek).toMatchObject({ seeks: 1, completed: false, milestonesReached: [] });
    expect((await claimMilestone(cheat, { videoId: v.id, sessionId: s1, percent: 50 }).expect(422)).body.details.reason).toBe('milestone_not_reached');

    // A flood of heartbeats: they queue on the session's row lock and are refused once the
    // session's heartbeat bucket (2 heartbeats, refilled one per minimum interval) is empty
    // (429 with Retry-After). How many get through depends on how long the flood takes to process.
    await sleep(250);
    const flood = await Promise.all(Array.from({ length: 6 }, () => heartbeat(cheat, v.id, s1, { positionSeconds: 20, playing: true })));
    expect(flood.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    const accepted = flood.filter((r) => r.status === 200).length;
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeLessThan(flood.length);
    const limited = flood.filter((r) => r.status === 429);
    expect(limited[0].headers['retry-after']).toBe('1');
    expect(limited[0].body.message).toMatch(/one every 0.2 s per session/);

    // Paused with the position moving: nothing.
    const s2 = await startSession(cheat, v.id);
    await sleep(300);
    await heartbeat(cheat, v.id, s2, { positionSeconds: 0.2, playing: false }).expect(200);
    await sleep(300);
    const paused = (await heartbeat(cheat, v.id, s2, { positionSeconds: 1.5, playing: false }).expect(200)).body;
    expect(paused.watchedSeconds).toBe(0);

    // Parallel sessions: a new one replaces the old, whose heartbeats are refused (they never add up).
    const s3 = await startSession(cheat, v.id);
    const s4 = await startSession(cheat, v.id, b);
    await sleep(300);
    expect((await heartbeat(cheat, v.id, s3, { positionSeconds: 0.3, playing: true }).expect(409)).body.message).toMatch(/replaced by a newer session/);
    await heartbeat(cheat, v.id, s2, { positionSeconds: 0.3, playing: true }).expect(409);
    const alive = (await heartbeat(cheat, v.id, s4, { positionSeconds: 0.3, playing: true }).expect(200)).body;
    expect(alive.watchedSeconds).toBe(0.3);
    const [{ n }] = await ds.query(`SELECT COUNT(*)::int AS n FROM watch_sessions WHERE user_id = $1 AND video_id = $2 AND status = 'active'`, [cheat.id, v.id]);
    expect(n).toBe(1);

    // Someone else's session, someone else's claim, unknown ids, foreign ads, bad input.
    await heartbeat(stranger, v.id, s4, { positionSeconds: 1, playing: true }).expect(404);
    await claimMilestone(stranger, { videoId: v.id, sessionId: s4, percent: 50 }).expect(404);
    await heartbeat(cheat, '00000000-0000-4000-8000-000000000000', s4, { positionSeconds: 1, playing: true }).expect(404);
    await sleep(250);
    expect((await heartbeat(cheat, v.id, s4, { positionSeconds: 1, playing: true, adId: '00000000-0000-4000-8000-000000000000' }).expect(400)).body.message).toMatch(/adId/);
    await heartbeat(cheat, v.id, s4, { positionSeconds: -1, playing: true }).expect(400);
    await heartbeat(cheat, v.id, s4, { positionSeconds: 1 }).expect(400);

    // Creators do not earn on their own videos.
    const own = await startSession(creator, v.id);
    expect((await claimMilestone(creator, { videoId: v.id, sessionId: own, percent: 50 }).expect(422)).body.details.reason).toBe('own_video');
    const [{ n: rewards }] = await ds.query(`SELECT COUNT(*)::int AS n FROM rewards WHERE context_id = $1`, [v.id]);
    expect(rewards).toBe(0);
  });

  it('pays an ad once it was watched for its duration in its slot', async () => {
    const v = (
      await createVideo({
        title: 'With ads',
        url: 'https://cdn.example.com/ads.mp4',
        durationSeconds: 2,
        ads: [
          { position: 'pre', durationSeconds: 1, reward: '0.2' },
          { position: 'mid', offsetSeconds: 1, durationSeconds: 1, reward: '0.3' },
          { position: 'post', durationSeconds: 1, reward: '0.25' },
        ],
      }).expect(201)
    ).body;
    const [pre, mid, post] = v.ads.map((x: any) => x.id);
    await allowUpTo('ad_view', '0.3');
    const viewer = await registerUser(a);
    const rogue = await registerUser(a);
    const sessionId = await startSession(viewer, v.id);
    const rogueSession = await startSession(rogue, v.id);

    expect((await claimAd(viewer, { videoId: v.id, sessionId, adId: pre }).expect(422)).body).toMatchObject({
      message: 'Not earned yet: 0 of 1 s of the pre-roll watched in this session',
      details: { reason: 'ad_not_watched', watchedSeconds: 0, requiredSeconds: 1 },
    });
    await sleep(1000);
    const [hbPre] = await Promise.all([
      heartbeat(viewer, v.id, sessionId, { positionSeconds: 0, playing: true, adId: pre }).expect(200),
      // The rogue claims to watch the mid-roll without reaching it.
      heartbeat(rogue, v.id, rogueSession, { positionSeconds: 0, playing: true, adId: mid }).expect(200),
    ]);
    expect(hbPre.body.ads[0]).toEqual({ adId: pre, position: 'pre', reached: true, watchedSeconds: 1, durationSeconds: 1, completed: true });
    expect(hbPre.body.watchedSeconds).toBe(0);
    expect((await claimAd(viewer, { videoId: v.id, sessionId, adId: pre }).expect(202)).body).toMatchObject({ status: 'queued', amount: '0.20000000' });
    expect((await claimAd(viewer, { videoId: v.id, sessionId, adId: mid }).expect(422)).body).toMatchObject({
      message: 'Not earned yet: this session has not reached the mid-roll at 1 s',
      details: { reason: 'ad_slot_not_reached' },
    });
    expect((await claimAd(rogue, { videoId: v.id, sessionId: rogueSession, adId: mid }).expect(422)).body.details.reason).toBe('ad_slot_not_reached');

    await sleep(1000);
    const content = (await heartbeat(viewer, v.id, sessionId, { positionSeconds: 1, playing: true }).expect(200)).body;
    expect(content).toMatchObject({ watchedSeconds: 1, ads: [expect.anything(), expect.objectContaining({ reached: true, watchedSeconds: 0 }), expect.objectContaining({ reached: false })] });
    await sleep(1000);
    await heartbeat(viewer, v.id, sessionId, { positionSeconds: 1, playing: true, adId: mid }).expect(200);
    expect((await claimAd(viewer, { videoId: v.id, sessionId, adId: mid }).expect(202)).body).toMatchObject({ status: 'queued', amount: '0.30000000' });
    await sleep(1000);
    await heartbeat(viewer, v.id, sessionId, { positionSeconds: 2, playing: true }).expect(200);
    expect((await claimAd(viewer, { videoId: v.id, sessionId, adId: post }).expect(422)).body.details.reason).toBe('ad_not_watched');
    await sleep(1000);
    const end = (await heartbeat(viewer, v.id, sessionId, { positionSeconds: 2, playing: true, adId: post }).expect(200)).body;
    expect(end.ads.map((x: any) => x.completed)).toEqual([true, true, true]);
    expect(end).toMatchObject({ watchedSeconds: 2, completed: true });
    const postClaim = await claimAd(viewer, { videoId: v.id, sessionId, adId: post }).expect(202);
    expect(postClaim.body).toMatchObject({ status: 'queued', amount: '0.25000000' });
    expect((await claimAd(viewer, { videoId: v.id, sessionId, adId: pre }).expect(202)).body.status).toBe('duplicate');
    await claimAd(viewer, { videoId: v.id, sessionId, adId: '00000000-0000-4000-8000-000000000000' }).expect(400);

    await waitPaid(postClaim.body.rewardId);
    await eventually(async () => (await balanceOf(a, viewer, 'SOFT')).total === '0.75000000');
    const summary = (await http(a).get(`/api/rewards/user/${viewer.id}`).set(auth(viewer)).expect(200)).body;
    expect(summary.byAction).toEqual([{ action: 'ad_view', count: 3, amount: '0.75000000' }]);
  });

  it('reports analytics to the creator and admins only, with exact figures', async () => {
    const v = (
      await createVideo({ title: 'Measured', url: 'https://cdn.example.com/m.mp4', durationSeconds: 2, ads: [{ position: 'pre', durationSeconds: 1, reward: '0.2' }] }).expect(201)
    ).body;
    const [v1, v2, v3] = await Promise.all([registerUser(a), registerUser(a), registerUser(a)]);
    const [s1, s2] = await Promise.all([startSession(v1, v.id), startSession(v2, v.id), startSession(v3, v.id)]);
    await sleep(1000);
    await Promise.all([
      heartbeat(v1, v.id, s1, { positionSeconds: 1, playing: true }).expect(200),
      heartbeat(v2, v.id, s2, { positionSeconds: 1, playing: true }).expect(200),
    ]);
    const s2b = await startSession(v2, v.id); // v2 starts over and watches the pre-roll
    await sleep(1000);
    const [, adBeat] = await Promise.all([
      heartbeat(v1, v.id, s1, { positionSeconds: 2, playing: true }).expect(200),
      heartbeat(v2, v.id, s2b, { positionSeconds: 0, playing: true, adId: v.ads[0].id }).expect(200),
    ]);
    expect(adBeat.body.ads[0].completed).toBe(true);
    const claim = await claimAd(v2, { videoId: v.id, sessionId: s2b, adId: v.ads[0].id }).expect(202);
    await waitPaid(claim.body.rewardId);
    const watcher = await connectSocket(a, v3.token);
    expect(await emitAck(watcher, 'join_video', { videoId: v.id })).toEqual({ ok: true, data: { videoId: v.id, viewerCount: 1 } });

    const res = (await http(a).get(`/api/videos/${v.id}/analytics`).set(auth(creator)).expect(200)).body;
    const half = (n: number) => Array.from({ length: 10 }, () => n);
    expect(res).toEqual({
      videoId: v.id,
      views: 2,
      uniqueViewers: 2,
      totalWatchSeconds: 3,
      averageWatchSeconds: 1.5,
      completionRate: 0.5,
      retention: [...half(2), ...half(1)].map((viewers, i) => ({ percent: i * 5, viewers, rate: viewers / 2 })),
      adImpressions: 1,
      adCompletions: 1,
      ads: [{ adId: v.ads[0].id, position: 'pre', impressions: 1, completions: 1 }],
      rewardsPaid: '0.20000000',
      rewardsPaidCount: 1,
      liveViewers: 1,
    });
    await http(b).get(`/api/videos/${v.id}/analytics`).set(auth(admin)).expect(200);
    await http(a).get(`/api/videos/${v.id}/analytics`).set(auth(v1)).expect(403);
    const otherCreator = await registerUser(a, { role: 'creator' });
    await http(a).get(`/api/videos/${v.id}/analytics`).set(auth(otherCreator)).expect(403);
    await http(a).get(`/api/videos/${v.id}/analytics`).expect(401);
    await http(a).get('/api/videos/00000000-0000-4000-8000-000000000000/analytics').set(auth(creator)).expect(404);
    const g = await gql(a, 'query($id: ID!) { videoAnalytics(videoId: $id) { views completionRate rewardsPaid retention { percent rate } } }', { id: v.id }, creator.token);
    expect(g.body.data.videoAnalytics).toMatchObject({ views: 2, completionRate: 0.5, rewardsPaid: '0.20000000' });
    const denied = await gql(a, 'query($id: ID!) { videoAnalytics(videoId: $id) { views } }', { id: v.id }, v1.token);
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('watches and claims over GraphQL with the same rules', async () => {
    const created = await gql(
      a,
      'mutation($i: CreateVideoInput!) { createVideo(input: $i) { id milestones { percent reward } } }',
      { i: { title: 'GQL', url: 'https://cdn.example.com/g.mp4', durationSeconds: 1, milestones: [{ percent: 100, reward: '0.1' }] } },
      creator.token,
    );
    const videoId = created.body.data.createVideo.id;
    const viewer = await registerUser(a);
    const denied = await gql(a, 'mutation($i: CreateVideoInput!) { createVideo(input: $i) { id } }', { i: { title: 'x', url: 'https://x.example.com/a', durationSeconds: 1 } }, viewer.token);
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const start = await gql(a, 'mutation($v: ID!) { startWatchSession(videoId: $v) { sessionId minHeartbeatIntervalSeconds } }', { v: videoId }, viewer.token);
    const { sessionId, minHeartbeatIntervalSeconds } = start.body.data.startWatchSession;
    expect(minHeartbeatIntervalSeconds).toBe(0.2);
    await sleep(1000);
    const beat = await gql(
      a,
      'mutation($v: ID!, $s: ID!, $i: WatchHeartbeatInput!) { watchHeartbeat(videoId: $v, sessionId: $s, input: $i) { watchedSeconds milestonesReached } }',
      { v: videoId, s: sessionId, i: { positionSeconds: 1, playing: true } },
      viewer.token,
    );
    expect(beat.body.data.watchHeartbeat).toEqual({ watchedSeconds: 1, milestonesReached: [100] });
    const claim = await gql(
      a,
      'mutation($i: ClaimWatchMilestoneInput!) { claimWatchMilestone(input: $i) { rewardId status amount } }',
      { i: { videoId, sessionId, percent: 100 } },
      viewer.token,
    );
    expect(claim.body.data.claimWatchMilestone).toMatchObject({ status: 'queued', amount: '0.10000000' });
  });

  /** The real app in a child process on the same database and Redis namespace (to SIGKILL it). */
  async function startChild(): Promise<{ url: string }> {
    const script = `
      require('reflect-metadata');
      const { createApp } = require('./src/bootstrap');
      const { loadConfig } = require('./src/core/config/config');
      (async () => {
        const app = await createApp(loadConfig(process.env));
        await app.listen(0, '127.0.0.1');
        process.stdout.write('LISTENING ' + app.getHttpServer().address().port + '\\n');
      })().catch((e) => { console.error(e); process.exit(1); });`;
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: resolve(__dirname, '..'),
      env: {
        ...process.env,
        ...env,
        NODE_ENV: 'test',
        DATABASE_URL: dbUrl(a.dbName),
        DATABASE_POOL_SIZE: '4',
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: a.prefix,
        JWT_SECRET: a.config.jwt.secret,
        MIGRATIONS_RUN: 'false',
        QUEUE_WORKERS: 'false',
        LOG_LEVEL: 'error',
        SERVE_CLIENT: 'false',
        ADMIN_EMAIL: '',
        ADMIN_PASSWORD: '',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error('child instance did not start in 45 s')), 45_000);
      child!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /LISTENING (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          ok(Number(m[1]));
        }
      });
      child!.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`child instance exited with ${code}`));
      });
    });
    return { url: `http://127.0.0.1:${port}` };
  }

  it('counts live viewers across instances, announces at most once a second, and drops a dead instance’s viewers', async () => {
    const v = (await createVideo({ title: 'Live', url: 'https://cdn.example.com/live.mp4', durationSeconds: 600 }).expect(201)).body;
    const [watcher, u1, u2, u3, u4] = await Promise.all(Array.from({ length: 5 }, () => registerUser(a)));
    const observer = await connectSocket(a, watcher.token);
    expect(await emitAck(observer, 'join_video', { videoId: v.id })).toEqual({ ok: true, data: { videoId: v.id, viewerCount: 1 } });
    const updates = collect<{ videoId: string; count: number }>(observer, 'viewer_count_update');
    const stamps: number[] = [];
    observer.on('viewer_count_update', () => stamps.push(Date.now()));

    const gqlClient = gqlWs(b, u1.token);
    const sub = subscribe(gqlClient, 'subscription($v: ID!) { viewerCountUpdated(videoId: $v) { videoId count } }', { v: v.id });
    await waitForGqlSubscriber(b, `video-viewers:${v.id}`);

    const s1 = await connectSocket(a, u1.token);
    const s2 = await connectSocket(b, u2.token);
    const s3a = await connectSocket(a, u3.token);
    const s3b = await connectSocket(b, u3.token);
    await Promise.all([s1, s2, s3a, s3b].map((s) => emitAck(s, 'join_video', { videoId: v.id })));
    // Three users watch (u3 on two devices counts once); with the observer, four.
    await eventually(() => updates.items.at(-1)?.count === 4, { timeoutMs: 15000 });
    expect((await http(b).get(`/api/videos/${v.id}`).expect(200)).body.viewerCount).toBe(4);
    const g: any = await sub.next();
    expect(g.data.viewerCountUpdated.videoId).toBe(v.id);

    expect(await emitAck(s3a, 'leave_video', { videoId: v.id })).toEqual({ ok: true, data: { videoId: v.id, viewerCount: 4 } });
    s3b.close();
    await eventually(() => updates.items.at(-1)?.count === 3, { timeoutMs: 15000 });

    // A third instance, killed without any chance to clean up: its viewer disappears.
    const c = await childReady;
    const s4 = await connectSocket({ url: c.url } as TestApp, u4.token);
    expect((await emitAck(s4, 'join_video', { videoId: v.id })).data.viewerCount).toBe(4);
    await eventually(() => updates.items.at(-1)?.count === 4, { timeoutMs: 15000 });
    child!.kill('SIGKILL');
    await once(child!, 'exit');
    await eventually(() => updates.items.at(-1)?.count === 3, { timeoutMs: 5000 });
    expect((await http(a).get(`/api/videos/${v.id}`).expect(200)).body.viewerCount).toBe(3);

    // Never more than one update per second for the video (the server spaces them by 1 s; the
    // bound here leaves room for delivery jitter on a busy machine, and still catches 2/s).
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
    expect(stamps.length).toBeGreaterThanOrEqual(3);
    expect(gaps.every((ms) => ms >= 600)).toBe(true);
    expect(updates.items.every((p) => p.videoId === v.id)).toBe(true);

    const bad = await emitAck(observer, 'join_video', { videoId: '00000000-0000-4000-8000-000000000000' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await emitAck(observer, 'join_video', { videoId: 'nope' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    updates.stop();
  });
});
