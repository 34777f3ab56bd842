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
import { balanceOf } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { JobsService } from '../src/core/queue/jobs.service';

/**
 * Rewards: rules, the trigger (idempotency, cooldown and daily cap under concurrent bursts on
 * two instances), payouts through BullMQ into the ledger (a failure after the money moved, a
 * job run twice, a job Redis lost, an empty pool), user data, audit and analytics.
 */
describe('rewards', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: TestUser;
  let ds: DataSource;

  beforeAll(async () => {
    const env = { REWARDS_POOL_SEED: '1000', REWARDS_SWEEP_INTERVAL_SECONDS: '1', REWARDS_STUCK_AFTER_SECONDS: '1' };
    a = await startTestApp({ env });
    b = await startTestApp({ shareWith: a, env });
    admin = await loginAdmin(a);
    ds = a.app.get(getDataSourceToken());
  });

  afterAll(async () => {
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const [pool] = await ds.query(`SELECT posted FROM ledger_accounts WHERE account_key = 'system:rewards_pool:SOFT'`);
    expect(BigInt(pool.posted) >= 0n).toBe(true);
    await closeClients();
    await b.close();
    await a.close();
  });

  const trigger = (t: TestApp, u: TestUser, body: Record<string, unknown>, key?: string) => {
    const r = http(t).post('/api/rewards/trigger').set('authorization', `Bearer ${u.token}`);
    if (key) r.set('idempotency-key', key);
    return r.send(body);
  };
  const patchRule = (action: string, body: Record<string, unknown>, token = admin.token) =>
    http(a).patch(`/api/admin/rewards/rules/${action}`).set('authorization', `Bearer ${token}`).send(body);
  const rewardRow = async (id: string) => (await ds.query(`SELECT * FROM rewards WHERE id = $1`, [id]))[0];
  const waitPaid = (id: string, timeoutMs = 10_000) => eventually(async () => (await rewardRow(id))?.status === 'paid', { timeoutMs });
  const poolBalance = async () => (await http(a).get('/api/admin/rewards/pool').set('authorization', `Bearer ${admin.token}`).expect(200)).body;
  const rewardsQueue = () => a.app.get(JobsService).queue('rewards');
  const soft = (s: string) => BigInt(s.replace('.', ''));
  const fmt = (minor: bigint) => `${minor / 100_000_000n}.${(minor % 100_000_000n).toString().padStart(8, '0')}`;

  it('lists the rules publicly and refuses unknown, server-only and malformed triggers', async () => {
    const rules = (await http(a).get('/api/rewards/rules').expect(200)).body;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'like', amount: '0.10000000', asset: 'SOFT', dailyCap: 50, cooldownSeconds: 2, enabled: true, grantedBy: 'client' }),
        expect.objectContaining({ action: 'daily_login', dailyCap: 1, targetRequired: false }),
        expect.objectContaining({ action: 'watch_milestone', grantedBy: 'server' }),
        expect.objectContaining({ action: 'ad_view', grantedBy: 'server' }),
        expect.objectContaining({ action: 'follow', grantedBy: 'server' }),
      ]),
    );
    const u = await registerUser(a);
    await http(a).post('/api/rewards/trigger').send({ action: 'like', targetId: 'p' }).expect(401);
    expect((await trigger(a, u, { action: 'teleport', targetId: 'x' }).expect(400)).body.message).toMatch(/Unknown action "teleport"/);
    expect((await trigger(a, u, { action: 'watch_milestone', targetId: 'x' }).expect(400)).body.message).toMatch(/granted by the server/);
    // Paid when a follow is recorded (creator module), never on the client's word.
    expect((await trigger(a, u, { action: 'follow', targetId: 'x' }).expect(400)).body.message).toMatch(/granted by the server/);
    expect((await trigger(a, u, { action: 'like' }).expect(400)).body.message).toMatch(/targetId is required/);
    expect(JSON.stringify((await trigger(a, u, { action: 'Like!' }).expect(400)).body.message)).toMatch(/action/);
    expect(JSON.stringify((await trigger(a, u, { action: 'like', targetId: 'with space' }).expect(400)).body.message)).toMatch(/targetId/);
    await trigger(a, u, { action: 'like', targetId: 'x', amount: '100' }).expect(400);
    await trigger(a, u, { action: 42 }).expect(400);
    const count = await ds.query(`SELECT COUNT(*)::int AS n FROM rewards WHERE user_id = $1`, [u.id]);
    expect(count[0].n).toBe(0);
  });

  it('queues, pays through the ledger, and announces reward_earned, balance_update and rewardEarned', async () => {
    const u = await registerUser(a);
    const sock = await connectSocket(b, u.token); // the payout may run on either instance
    const client = gqlWs(a, u.token);
    const sub = subscribe(client, 'subscription { rewardEarned { id action targetId amount asset status createdAt paidAt } }');
    await waitForGqlSubscriber(a, `rewards:${u.id}`);
    const earned = nextEvent(sock, 'reward_earned');
    const balance = nextEvent(sock, 'balance_update', (p: any) => p.balances.find((x: any) => x.asset === 'SOFT').total === '0.50000000');

    const res = await trigger(a, u, { action: 'share', targetId: 'post-1' }).expect(202);
    expect(res.body).toEqual({ rewardId: expect.any(String), status: 'queued', amount: '0.50000000' });

    const ev = await earned;
    expect(ev).toEqual({
      userId: u.id,
      reward: { id: res.body.rewardId, action: 'share', targetId: 'post-1', amount: '0.50000000', asset: 'SOFT', status: 'paid', createdAt: expect.any(String), paidAt: expect.any(String) },
    });
    await balance;
    const g: any = await sub.next();
    expect(g.data.rewardEarned).toMatchObject({ id: res.body.rewardId, action: 'share', amount: '0.50000000', status: 'paid', createdAt: ev.reward.createdAt });

    expect(await balanceOf(a, u, 'SOFT')).toEqual({ asset: 'SOFT', available: '0.50000000', held: '0.00000000', total: '0.50000000' });
    const hist = (await http(a).get(`/api/wallet/${u.id}/transactions`).set('authorization', `Bearer ${u.token}`).expect(200)).body;
    expect(hist.items).toEqual([expect.objectContaining({ type: 'reward', asset: 'SOFT', amount: '0.50000000', balanceAfter: '0.50000000', reference: res.body.rewardId })]);

    const summary = (await http(a).get(`/api/rewards/user/${u.id}`).set('authorization', `Bearer ${u.token}`).expect(200)).body;
    expect(summary).toEqual({
      userId: u.id,
      asset: 'SOFT',
      balance: '0.50000000',
      totalEarned: '0.50000000',
      todayEarned: '0.50000000',
      pending: '0.00000000',
      byAction: [{ action: 'share', count: 1, amount: '0.50000000' }],
      recent: [expect.objectContaining({ id: res.body.rewardId, action: 'share', targetId: 'post-1', amount: '0.50000000', status: 'paid' })],
    });
    const page = (await http(a).get(`/api/rewards/user/${u.id}/history?limit=1`).set('authorization', `Bearer ${u.token}`).expect(200)).body;
    expect(page).toEqual({ items: [expect.objectContaining({ id: res.body.rewardId })], nextCursor: null });

    // Reward data is the owner's (and admins').
    const other = await registerUser(a);
    await http(a).get(`/api/rewards/user/${u.id}`).set('authorization', `Bearer ${other.token}`).expect(403);
    await http(a).get(`/api/rewards/user/${u.id}/history`).set('authorization', `Bearer ${other.token}`).expect(403);
    await http(a).get(`/api/rewards/user/${u.id}`).expect(401);
    await http(a).get(`/api/rewards/user/${u.id}`).set('authorization', `Bearer ${admin.token}`).expect(200);
    const q = await gql(a, 'query($u: ID) { rewardSummary(userId: $u) { totalEarned } }', { u: u.id }, other.token);
    expect(q.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const mine = await gql(a, '{ rewardSummary { userId totalEarned byAction { action count amount } } }', {}, u.token);
    expect(mine.body.data.rewardSummary).toEqual({ userId: u.id, totalEarned: '0.50000000', byAction: [{ action: 'share', count: 1, amount: '0.50000000' }] });
  });

  it('rewards a user, action and target once, even in a concurrent burst on two instances', async () => {
    const u = await registerUser(a);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => trigger(i % 2 ? b : a, u, { action: 'like', targetId: 'video-42' })));
    expect(results.every((r) => r.status === 202)).toBe(true);
    const queued = results.filter((r) => r.body.status === 'queued');
    expect(queued).toHaveLength(1);
    const id = queued[0].body.rewardId;
    for (const r of results.filter((x) => x.body.status !== 'queued')) {
      expect(r.body).toEqual({ rewardId: id, status: 'duplicate', amount: '0.10000000', reason: expect.stringMatching(/already rewarded/) });
    }
    // Another user liking the same target is rewarded; an Idempotency-Key replays the first answer.
    const v = await registerUser(a);
    const first = await trigger(a, v, { action: 'like', targetId: 'video-42' }, 'like-42').expect(202);
    expect(first.body.status).toBe('queued');
    const replay = await trigger(a, v, { action: 'like', targetId: 'video-42' }, 'like-42').expect(202);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');

    await waitPaid(id);
    await waitPaid(first.body.rewardId);
    expect((await balanceOf(a, u, 'SOFT')).total).toBe('0.10000000');
    expect((await balanceOf(a, v, 'SOFT')).total).toBe('0.10000000');
    const [n] = await ds.query(`SELECT COUNT(*)::int AS n FROM ledger_transfers WHERE idempotency_key = $1`, [`reward:${id}`]);
    expect(n.n).toBe(1);
  });

  it('holds the daily cap under a concurrent burst across two instances', async () => {
    await patchRule('comment', { dailyCap: 5, cooldownSeconds: 0 }).expect(200);
    const u = await registerUser(a);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => trigger(i % 2 ? b : a, u, { action: 'comment', targetId: `c-${i}` })));
    expect(results.every((r) => r.status === 202)).toBe(true);
    const queued = results.filter((r) => r.body.status === 'queued');
    const capped = results.filter((r) => r.body.status === 'capped');
    expect(queued).toHaveLength(5);
    expect(capped).toHaveLength(35);
    expect(capped[0].body).toEqual({
      rewardId: null,
      status: 'capped',
      amount: '0.00000000',
      reason: 'Daily limit of 5 comment rewards reached; it resets at 00:00 UTC',
      retryAfterSeconds: expect.any(Number),
    });
    expect(capped[0].body.retryAfterSeconds).toBeGreaterThan(0);
    expect(capped[0].body.retryAfterSeconds).toBeLessThanOrEqual(86_400);
    // Duplicate is checked before the cap.
    const again = await trigger(a, u, { action: 'comment', targetId: `c-${results.indexOf(queued[0])}` }).expect(202);
    expect(again.body).toMatchObject({ status: 'duplicate', rewardId: queued[0].body.rewardId });

    for (const r of queued) await waitPaid(r.body.rewardId);
    expect((await balanceOf(a, u, 'SOFT')).total).toBe('1.25000000');
    const [c] = await ds.query(`SELECT count FROM reward_counters WHERE user_id = $1 AND action = 'comment'`, [u.id]);
    expect(c.count).toBe(5);
    const [rows] = await ds.query(`SELECT COUNT(*)::int AS n FROM rewards WHERE user_id = $1 AND action = 'comment'`, [u.id]);
    expect(rows.n).toBe(5);
  });

  it('applies cooldowns atomically, and checks duplicate, disabled, cooldown, capped in that order', async () => {
    await patchRule('comment', { cooldownSeconds: 60, dailyCap: 3 }).expect(200);
    const u = await registerUser(a);
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => trigger(i % 2 ? b : a, u, { action: 'comment', targetId: `creator-${i}` })));
    const queued = burst.filter((r) => r.body.status === 'queued');
    const cooling = burst.filter((r) => r.body.status === 'cooldown');
    expect(queued).toHaveLength(1);
    expect(cooling).toHaveLength(9);
    expect(cooling[0].body).toMatchObject({ rewardId: null, amount: '0.00000000', reason: expect.stringMatching(/^Wait \d+ s before the next comment reward/) });
    expect(cooling[0].body.retryAfterSeconds).toBeGreaterThan(0);
    expect(cooling[0].body.retryAfterSeconds).toBeLessThanOrEqual(60);
    const rewardedTarget = `creator-${burst.indexOf(queued[0])}`;

    await patchRule('comment', { enabled: false }).expect(200);
    expect((await trigger(a, u, { action: 'comment', targetId: 'creator-new' }).expect(202)).body).toEqual({
      rewardId: null,
      status: 'disabled',
      amount: '0.00000000',
      reason: 'Rewards for comment are disabled',
    });
    expect((await trigger(a, u, { action: 'comment', targetId: rewardedTarget }).expect(202)).body.status).toBe('duplicate');

    await patchRule('comment', { enabled: true, cooldownSeconds: 0 }).expect(200);
    expect((await trigger(a, u, { action: 'comment', targetId: 'creator-x' })).body.status).toBe('queued');
    expect((await trigger(a, u, { action: 'comment', targetId: 'creator-y' })).body.status).toBe('queued');
    expect((await trigger(a, u, { action: 'comment', targetId: 'creator-z' })).body.status).toBe('capped');

    // A target-less action: the daily cap is the only limit.
    expect((await trigger(a, u, { action: 'daily_login' })).body.status).toBe('queued');
    expect((await trigger(b, u, { action: 'daily_login' })).body.status).toBe('capped');
  });

  it('lets only admins change rules, validates changes and audits each one', async () => {
    const u = await registerUser(a);
    await patchRule('like', { amount: '1' }, u.token).expect(403);
    expect(JSON.stringify((await patchRule('like', { amount: '0.000000001' }).expect(400)).body.message)).toMatch(/amount has too many decimal places/);
    expect(JSON.stringify((await patchRule('like', { dailyCap: -1 }).expect(400)).body.message)).toMatch(/dailyCap/);
    expect(JSON.stringify((await patchRule('like', { enabled: 'yes' }).expect(400)).body.message)).toMatch(/enabled/);
    expect((await patchRule('like', {}).expect(400)).body.message).toMatch(/Nothing to change/);
    await patchRule('teleport', { amount: '1' }).expect(404);

    const res = await patchRule('like', { amount: '0.2', description: 'Liking things' }).expect(200);
    expect(res.body).toMatchObject({ action: 'like', amount: '0.20000000', description: 'Liking things', dailyCap: 50, cooldownSeconds: 2, enabled: true });
    expect((await http(a).get('/api/rewards/rules').expect(200)).body.find((r: any) => r.action === 'like').amount).toBe('0.20000000');
    await patchRule('like', { amount: '0.1' }).expect(200);

    const audit = (await http(a).get('/api/admin/rewards/rules/like/audit').set('authorization', `Bearer ${admin.token}`).expect(200)).body;
    expect(audit.items[0]).toMatchObject({ action: 'like', actorId: admin.id, before: { amount: '0.20000000' }, after: { amount: '0.10000000' } });
    expect(audit.items[1]).toMatchObject({
      actorId: admin.id,
      actorUsername: expect.any(String),
      before: { amount: '0.10000000', description: 'Liking a post or video' },
      after: { amount: '0.20000000', description: 'Liking things' },
      createdAt: expect.any(String),
    });
    await http(a).get('/api/admin/rewards/rules/like/audit').set('authorization', `Bearer ${u.token}`).expect(403);

    const g = await gql(a, 'mutation { updateRewardRule(action: "like", input: { enabled: false }) { enabled } }', {}, u.token);
    expect(g.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const ok = await gql(a, 'mutation { updateRewardRule(action: "like", input: { cooldownSeconds: 2 }) { action cooldownSeconds } }', {}, admin.token);
    expect(ok.body.data.updateRewardRule).toEqual({ action: 'like', cooldownSeconds: 2 });
  });

  it('pays exactly once when a payout fails after the money moved, and the job is retried', async () => {
    // A fault inside the payout transaction, after the ledger movement, on the first attempt only.
    await ds.query(`
      CREATE FUNCTION test_fail_first_payout() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT target_id = 'faulty-post' AND attempts < 2 FROM rewards WHERE id = NEW.reference::uuid) THEN
          RAISE EXCEPTION 'injected failure after the ledger movement';
        END IF;
        RETURN NEW;
      END $$`);
    await ds.query(`CREATE TRIGGER test_fail_first_payout AFTER INSERT ON ledger_transfers FOR EACH ROW WHEN (NEW.kind = 'reward') EXECUTE FUNCTION test_fail_first_payout()`);
    try {
      const u = await registerUser(a);
      const res = await trigger(a, u, { action: 'share', targetId: 'faulty-post' }).expect(202);
      const id = res.body.rewardId;
      await eventually(async () => (await rewardRow(id)).last_error === 'injected failure after the ledger movement', { timeoutMs: 5000 });
      expect((await balanceOf(a, u, 'SOFT')).total).toBe('0.00000000');
      await waitPaid(id);
      const row = await rewardRow(id);
      expect(row).toMatchObject({ status: 'paid', attempts: 2, last_error: null });
      const job = await rewardsQueue().getJob(id);
      expect(job?.attemptsMade).toBe(2);
      expect(job?.returnvalue).toEqual({ outcome: 'paid' });
      const transfers = await ds.query(`SELECT amount FROM ledger_transfers WHERE idempotency_key = $1`, [`reward:${id}`]);
      expect(transfers).toEqual([{ amount: '50000000' }]);
      expect((await balanceOf(a, u, 'SOFT')).total).toBe('0.50000000');
    } finally {
      await ds.query(`DROP TRIGGER test_fail_first_payout ON ledger_transfers`);
      await ds.query(`DROP FUNCTION test_fail_first_payout`);
    }
  });

  it('never pays twice when a payout job runs again, even if the paid mark were lost', async () => {
    const u = await registerUser(a);
    const res = await trigger(a, u, { action: 'share', targetId: 'twice' }).expect(202);
    const id = res.body.rewardId;
    await waitPaid(id);
    const q = rewardsQueue();
    const again = await q.add('payout', { rewardId: id }, { jobId: `${id}-again` });
    await eventually(async () => (await again.getState()) === 'completed');
    expect((await q.getJob(again.id!))?.returnvalue).toEqual({ outcome: 'already-paid' });

    // Even a reward marked queued again (as if the paid mark were lost) moves no money twice.
    await ds.query(`UPDATE rewards SET status = 'queued', paid_at = NULL WHERE id = $1`, [id]);
    const third = await q.add('payout', { rewardId: id }, { jobId: `${id}-third` });
    await eventually(async () => (await third.getState()) === 'completed');
    expect((await rewardRow(id)).status).toBe('paid');
    expect((await balanceOf(a, u, 'SOFT')).total).toBe('0.50000000');
    const [n] = await ds.query(`SELECT COUNT(*)::int AS n FROM ledger_transfers WHERE idempotency_key = $1`, [`reward:${id}`]);
    expect(n.n).toBe(1);
  });

  it('re-enqueues a queued reward whose job Redis lost', async () => {
    const u = await registerUser(a);
    const q = rewardsQueue();
    await q.pause();
    let id: string;
    try {
      id = (await trigger(a, u, { action: 'share', targetId: 'lost-job' }).expect(202)).body.rewardId;
      const job = await q.getJob(id);
      expect(job).toBeTruthy();
      await job!.remove();
      expect(await q.getJob(id)).toBeUndefined();
    } finally {
      await q.resume();
    }
    // The periodic sweep (every second here) finds it queued with no job and enqueues it again.
    await waitPaid(id!, 10_000);
    expect((await balanceOf(a, u, 'SOFT')).total).toBe('0.50000000');
  });

  it('refuses payouts cleanly when the pool runs dry, and pays them once it is refilled', async () => {
    const u = await registerUser(a);
    const before = soft((await poolBalance()).balance);

    // A reward the pool cannot cover is refused at the trigger.
    await patchRule('create_post', { amount: fmt(before + 1n), cooldownSeconds: 0 }).expect(200);
    expect((await trigger(a, u, { action: 'create_post', targetId: 'too-big' }).expect(202)).body).toMatchObject({
      rewardId: null,
      status: 'disabled',
      reason: expect.stringMatching(/pool/),
    });

    // Two rewards that each fit but not together: the second waits for money, queued.
    const each = before / 2n + 1n;
    await patchRule('create_post', { amount: fmt(each) }).expect(200);
    const q = rewardsQueue();
    await q.pause();
    let ids: string[];
    try {
      const r1 = await trigger(a, u, { action: 'create_post', targetId: 'p-1' }).expect(202);
      const r2 = await trigger(b, u, { action: 'create_post', targetId: 'p-2' }).expect(202);
      expect([r1.body.status, r2.body.status]).toEqual(['queued', 'queued']);
      ids = [r1.body.rewardId, r2.body.rewardId];
    } finally {
      await q.resume();
    }
    await eventually(async () => {
      const rows = await ds.query(`SELECT status, last_error FROM rewards WHERE id = ANY($1)`, [ids!]);
      return rows.filter((r: any) => r.status === 'paid').length === 1 && rows.some((r: any) => r.last_error === 'rewards pool exhausted');
    });
    const drained = await poolBalance();
    expect(soft(drained.balance)).toBe(before - each);
    expect(drained.queuedCount).toBe(1);
    expect((await balanceOf(a, u, 'SOFT')).total).toBe(fmt(each));

    // Admin refills the pool: the waiting reward is paid at once, exactly once.
    const fund = await http(a)
      .post('/api/admin/rewards/pool/fund')
      .set('authorization', `Bearer ${admin.token}`)
      .send({ amount: fmt(each), reference: 'budget-2026-q1' })
      .expect(201);
    expect(fund.body).toMatchObject({ asset: 'SOFT', amount: fmt(each), reference: 'budget-2026-q1', replayed: false });
    for (const id of ids!) await waitPaid(id, 5000);
    expect((await balanceOf(a, u, 'SOFT')).total).toBe(fmt(2n * each));
    expect(soft((await poolBalance()).balance)).toBe(before - each);
    await patchRule('create_post', { amount: '1', cooldownSeconds: 60 }).expect(200);
  });

  it('drains a backlog in batches on both instances, exactly once, while the same users transfer SOFT', async () => {
    await patchRule('like', { cooldownSeconds: 0 }).expect(200);
    const users = await Promise.all(Array.from({ length: 4 }, () => registerUser(a)));
    for (const u of users) {
      await http(a).post(`/api/admin/wallet/${u.id}/deposit`).set('authorization', `Bearer ${admin.token}`).send({ asset: 'SOFT', amount: '5', reference: `seed-${u.id}` }).expect(201);
    }
    const q = rewardsQueue();
    await q.pause();
    let ids: string[];
    try {
      const res = await Promise.all(users.flatMap((u, i) => Array.from({ length: 10 }, (_, k) => trigger(k % 2 ? a : b, u, { action: 'like', targetId: `backlog-${i}-${k}` }))));
      expect(res.every((r) => r.body.status === 'queued')).toBe(true);
      ids = res.map((r) => r.body.rewardId);
    } finally {
      await q.resume();
    }
    // Wallet transfers among the same users while the payouts run: no deadlock, nothing refused.
    const moves = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        http(i % 2 ? a : b)
          .post(`/api/wallet/${users[i % 4].id}/transfer`)
          .set('authorization', `Bearer ${users[i % 4].token}`)
          .send({ toUserId: users[(i + 1 + (i % 3)) % 4].id, asset: 'SOFT', amount: '0.01' }),
      ),
    );
    expect(moves.map((m) => m.status)).toEqual(moves.map(() => 201));
    await eventually(async () => (await ds.query(`SELECT COUNT(*)::int AS n FROM rewards WHERE id = ANY($1) AND status = 'paid'`, [ids!]))[0].n === 40, { timeoutMs: 15_000 });
    const [t] = await ds.query(`SELECT COUNT(*)::int AS n, SUM(amount)::text AS s FROM ledger_transfers WHERE idempotency_key = ANY($1)`, [ids!.map((id) => `reward:${id}`)]);
    expect(t).toEqual({ n: 40, s: '400000000' });
    const totals = await Promise.all(users.map((u) => balanceOf(a, u, 'SOFT')));
    expect(totals.reduce((s, x) => s + soft(x.total), 0n)).toBe(4n * 500_000_000n + 400_000_000n);

    // The history pages through all ten rewards of a user, newest first, without gaps or repeats.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await http(a)
        .get(`/api/rewards/user/${users[0].id}/history?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
        .set('authorization', `Bearer ${users[0].token}`)
        .expect(200);
      seen.push(...page.body.items.map((r: any) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const expected = await ds.query(`SELECT id FROM rewards WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, [users[0].id]);
    expect(seen).toEqual(expected.map((r: any) => r.id));
    expect(seen).toHaveLength(10);
    await http(a).get(`/api/rewards/user/${users[0].id}/history?cursor=garbage`).set('authorization', `Bearer ${users[0].token}`).expect(400);
    await patchRule('like', { cooldownSeconds: 2 }).expect(200);
  });

  it('seeds the pool once per database and lets admins fund it idempotently', async () => {
    // Two instances started on this database: one seed movement.
    const seeds = await ds.query(`SELECT amount FROM ledger_transfers WHERE idempotency_key = 'rewards-pool:seed'`);
    expect(seeds).toEqual([{ amount: '100000000000' }]);
    const before = await poolBalance();
    const body = { amount: '250.5', reference: 'treasury-7' };
    const first = await http(a).post('/api/admin/rewards/pool/fund').set('authorization', `Bearer ${admin.token}`).send(body).expect(201);
    const second = await http(b).post('/api/admin/rewards/pool/fund').set('authorization', `Bearer ${admin.token}`).send(body).expect(201);
    expect(second.body).toMatchObject({ id: first.body.id, replayed: true });
    const after = await poolBalance();
    expect(soft(after.balance) - soft(before.balance)).toBe(25_050_000_000n);
    expect(soft(after.funded) - soft(before.funded)).toBe(25_050_000_000n);
    await http(a).post('/api/admin/rewards/pool/fund').set('authorization', `Bearer ${admin.token}`).send({ amount: '-1', reference: 'x' }).expect(400);
    await http(a).post('/api/admin/rewards/pool/fund').set('authorization', `Bearer ${admin.token}`).send({ amount: '1' }).expect(400);
    const u = await registerUser(a);
    await http(a).post('/api/admin/rewards/pool/fund').set('authorization', `Bearer ${u.token}`).send(body).expect(403);
    await http(a).get('/api/admin/rewards/pool').set('authorization', `Bearer ${u.token}`).expect(403);
  });

  it('gives admins analytics per action per day, top earners, pool balance and burn rate', async () => {
    const u = await registerUser(a);
    await http(a).get('/api/rewards/analytics').set('authorization', `Bearer ${u.token}`).expect(403);
    await http(a).get('/api/rewards/analytics?days=0').set('authorization', `Bearer ${admin.token}`).expect(400);
    await http(a).get('/api/rewards/analytics?days=91').set('authorization', `Bearer ${admin.token}`).expect(400);
    await eventually(async () => (await ds.query(`SELECT COUNT(*)::int AS n FROM rewards WHERE status = 'queued'`))[0].n === 0, { timeoutMs: 10_000 });

    const res = (await http(a).get('/api/rewards/analytics?days=7').set('authorization', `Bearer ${admin.token}`).expect(200)).body;
    const [totals] = await ds.query(`SELECT COUNT(*)::int AS n, SUM(amount)::text AS s, COUNT(DISTINCT user_id)::int AS users FROM rewards`);
    const today = new Date().toISOString().slice(0, 10);
    expect(res).toMatchObject({ to: today, days: 7, totals: { count: totals.n, amount: fmt(BigInt(totals.s)), users: totals.users } });
    const comment = res.byAction.find((x: any) => x.action === 'comment');
    const [c] = await ds.query(`SELECT COUNT(*)::int AS n, SUM(amount)::text AS s FROM rewards WHERE action = 'comment'`);
    expect(comment).toEqual({ action: 'comment', count: c.n, amount: fmt(BigInt(c.s)) });
    expect(res.daily).toEqual(expect.arrayContaining([{ day: today, action: 'comment', count: c.n, amount: fmt(BigInt(c.s)) }]));
    const [top] = await ds.query(`SELECT user_id, SUM(amount)::text AS s FROM rewards GROUP BY user_id ORDER BY SUM(amount) DESC, user_id LIMIT 1`);
    expect(res.topEarners[0]).toMatchObject({ userId: top.user_id, amount: fmt(BigInt(top.s)), username: expect.any(String) });
    const [pool] = await ds.query(`SELECT posted::text FROM ledger_accounts WHERE account_key = 'system:rewards_pool:SOFT'`);
    const paid = BigInt(totals.s);
    expect(res.pool).toMatchObject({
      asset: 'SOFT',
      balance: fmt(BigInt(pool.posted)),
      paidOut: fmt(paid),
      queuedCount: 0,
      burnRatePerDay: fmt(paid / 7n),
    });
    expect(res.pool.runwayDays).toBeCloseTo(Number((BigInt(pool.posted) * 10n) / (paid / 7n)) / 10, 5);
    const g = await gql(a, '{ rewardAnalytics(days: 7) { totals { count } pool { balance } } }', {}, admin.token);
    expect(g.body.data.rewardAnalytics).toEqual({ totals: { count: totals.n }, pool: { balance: fmt(BigInt(pool.posted)) } });
  });
});
