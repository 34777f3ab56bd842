import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Socket } from 'socket.io-client';
import { startTestApp, TestApp } from './harness/app';
import {
  closeClients,
  collect,
  connectSocket,
  emitAck,
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
import { JobsService } from '../src/core/queue/jobs.service';
import { BattleEndService, endJobId } from '../src/modules/battles/battle-end.service';
import { UPDATE_WINDOW_MS } from '../src/modules/battles/battle-updates.service';

type Tallies = { userId: string; votes: number }[];
const total = (votes: Tallies) => votes.reduce((s, v) => s + v.votes, 0);

/**
 * Battles live, on two instances sharing Postgres and Redis: viewer counts shared across
 * instances, coalesced `battle_update` / `battleUpdated` with full tallies, 50 concurrent voters
 * (each counted once) and 20 concurrent votes from one user (one counted), the end (once, by
 * the delayed job) with `battle_ended` everywhere, a vote log anyone can recount against the
 * published SHA-256, a prize split on a tie, and a prize given back when nobody voted.
 */
describe('Battles live', () => {
  let a: TestApp;
  let b: TestApp;
  let ds: DataSource;
  let admin: TestUser;
  let c1: TestUser;
  let c2: TestUser;
  let c3: TestUser;
  let watcherA: TestUser;
  let watcherB: TestUser;
  let voters: TestUser[];
  let sA: Socket;
  let sB: Socket;

  beforeAll(async () => {
    a = await startTestApp({ env: { BATTLE_MIN_DURATION_SECONDS: '1' } });
    b = await startTestApp({ shareWith: a, env: { BATTLE_MIN_DURATION_SECONDS: '1' } });
    ds = a.app.get(getDataSourceToken());
    admin = await loginAdmin(a);
    [c1, c2, c3, watcherA, watcherB] = await Promise.all([
      registerUser(a, { role: 'creator' }),
      registerUser(a, { role: 'creator' }),
      registerUser(a, { role: 'creator' }),
      registerUser(a),
      registerUser(b),
    ]);
    voters = await Promise.all(Array.from({ length: 50 }, (_, i) => registerUser(i % 2 ? b : a)));
    await deposit(a, admin, c1.id, 'USD', '100.00');
    sA = await connectSocket(a, watcherA.token);
    sB = await connectSocket(b, watcherB.token);
  }, 120_000);
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await b.close();
    await a.close();
  });

  const create = async (body: Record<string, unknown>) =>
    (await http(a).post('/api/battles').set('authorization', `Bearer ${c1.token}`).send({ title: 'Live battle', participantIds: [c1.id, c2.id, c3.id], durationSeconds: 600, ...body }).expect(201))
      .body as { id: string; endsAt: string };
  const vote = (u: TestUser, battleId: string, participantId: string, app = a) =>
    http(app).post(`/api/battles/${battleId}/votes`).set('authorization', `Bearer ${u.token}`).send({ participantId });
  /** Brings the end forward: the battle's time is up now, and its delayed end job runs now. */
  const endNow = async (battleId: string) => {
    await ds.query(`UPDATE battles SET ends_at = now() WHERE id = $1`, [battleId]);
    const job = await a.app.get(JobsService).queue('battles').getJob(endJobId(battleId));
    await job!.promote();
  };
  /** The documented hash, recomputed here independently of the server's code. */
  const recomputeHash = (battleId: string, votes: { seq: number; voter: string; participantId: string; at: string }[]) => {
    const h = createHash('sha256').update(`softchat-battle-v1 ${battleId}\n`);
    for (const v of [...votes].sort((x, y) => x.seq - y.seq)) h.update(`${v.seq} ${v.voter} ${v.participantId} ${v.at}\n`);
    return h.digest('hex');
  };

  describe('one battle, start to end', () => {
    let battle: { id: string };
    let gqlSub: ReturnType<typeof subscribe>;

    beforeAll(async () => {
      battle = await create({});
    });

    it('shares the viewer count across instances (join_battle acks the Battle)', async () => {
      const ackA = await emitAck(sA, 'join_battle', { battleId: battle.id });
      expect(ackA).toMatchObject({ ok: true, data: { id: battle.id, status: 'live', viewerCount: 1 } });
      const seenOnA = nextEvent(sA, 'battle_update', (p) => p.battleId === battle.id && p.viewerCount === 2);
      const ackB = await emitAck(sB, 'join_battle', { battleId: battle.id });
      expect(ackB).toMatchObject({ ok: true, data: { id: battle.id, viewerCount: 2 } });
      expect(await seenOnA).toEqual({
        battleId: battle.id,
        votes: [c1, c2, c3].map((c) => ({ userId: c.id, votes: 0 })),
        viewerCount: 2,
        status: 'live',
        winnerId: null,
        endsAt: expect.any(String),
      });
      const client = gqlWs(b, watcherB.token);
      gqlSub = subscribe(client, `subscription($id: ID!) { battleUpdated(battleId: $id) { battleId votes { userId votes } viewerCount status winnerId endsAt } }`, {
        id: battle.id,
      });
      await waitForGqlSubscriber(b, `battles:${battle.id}`);
    });

    it('counts 50 concurrent voters once each, with far fewer updates than votes, the last with the final tallies', async () => {
      const onA = collect<{ votes: Tallies; viewerCount: number }>(sA, 'battle_update');
      const onB = collect<{ votes: Tallies }>(sB, 'battle_update');
      const finalOnA = nextEvent(sA, 'battle_update', (p) => total(p.votes) === 50, 30_000);
      const finalOnB = nextEvent(sB, 'battle_update', (p) => total(p.votes) === 50, 30_000);
      // 10 for c1, 25 for c2, 15 for c3, through both instances at once.
      const choice = (i: number) => (i < 10 ? c1 : i < 35 ? c2 : c3);
      const started = Date.now();
      const res = await Promise.all(voters.map((v, i) => vote(v, battle.id, choice(i).id, i % 2 ? b : a)));
      expect(res.map((r) => r.status)).toEqual(voters.map(() => 201));
      const expected = [
        { userId: c1.id, votes: 10 },
        { userId: c2.id, votes: 25 },
        { userId: c3.id, votes: 15 },
      ];
      expect((await finalOnA).votes).toEqual(expected);
      expect((await finalOnB).votes).toEqual(expected);
      let g = (await gqlSub.next(30_000)) as { data: { battleUpdated: { votes: Tallies; status: string } } };
      while (total(g.data.battleUpdated.votes) < 50) g = (await gqlSub.next(30_000)) as typeof g;
      expect(g.data.battleUpdated).toMatchObject({ battleId: battle.id, votes: expected, viewerCount: 2, status: 'live', winnerId: null });
      const elapsed = Date.now() - started;
      onA.stop();
      onB.stop();
      // Coalesced: each update carries the full tallies; far fewer updates than votes; the last is final.
      expect(onA.items.length).toBeLessThan(25);
      // At most one update per 250 ms window across both instances (plus the one in flight at each end).
      expect(onA.items.length).toBeLessThanOrEqual(Math.ceil(elapsed / UPDATE_WINDOW_MS) + 2);
      expect(onA.items.at(-1)).toMatchObject({ votes: expected, viewerCount: 2 });
      expect(onB.items.at(-1)).toMatchObject({ votes: expected });
      for (const u of onA.items) expect(u.votes.map((v) => v.userId)).toEqual([c1.id, c2.id, c3.id]);
      const rows = await ds.query(`SELECT COUNT(*)::int AS n, COUNT(DISTINCT voter_id)::int AS voters FROM battle_votes WHERE battle_id = $1`, [battle.id]);
      expect(rows[0]).toEqual({ n: 50, voters: 50 });
      const rewarded = await ds.query(`SELECT COUNT(DISTINCT user_id)::int AS n FROM rewards WHERE action = 'battle_vote' AND target_id = $1`, [battle.id]);
      expect(rewarded[0].n).toBe(50);
    }, 60_000);

    it('counts one of 20 concurrent votes from one user, on both instances', async () => {
      const eager = await registerUser(a);
      const res = await Promise.all(Array.from({ length: 20 }, (_, i) => vote(eager, battle.id, i % 3 ? c2.id : c3.id, i % 2 ? b : a)));
      expect(res.filter((r) => r.status === 201)).toHaveLength(1);
      const refused = res.filter((r) => r.status !== 201);
      expect(refused.map((r) => [r.status, r.body.details?.code])).toEqual(refused.map(() => [409, 'ALREADY_VOTED']));
      const view = (await http(a).get(`/api/battles/${battle.id}`).set('authorization', `Bearer ${eager.token}`).expect(200)).body;
      expect(view.totalVotes).toBe(51);
      expect(view.myVote).toBe(res.find((r) => r.status === 201)!.body.myVote);
      expect((await ds.query(`SELECT COUNT(*)::int AS n FROM battle_votes WHERE battle_id = $1 AND voter_id = $2`, [battle.id, eager.id]))[0].n).toBe(1);
    }, 60_000);

    it('ends once with battle_ended on both instances and on GraphQL; later votes are refused', async () => {
      const endedA = nextEvent(sA, 'battle_ended', (p) => p.battleId === battle.id, 20_000);
      const endedB = nextEvent(sB, 'battle_ended', (p) => p.battleId === battle.id, 20_000);
      await endNow(battle.id);
      const ea = await endedA;
      expect(ea).toEqual({ battleId: battle.id, winnerId: c2.id, winnerIds: [c2.id], resultHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(await endedB).toEqual(ea);
      let g = (await gqlSub.next(20_000)) as { data: { battleUpdated: { votes: Tallies; status: string } } };
      while (g.data.battleUpdated.status !== 'ended') g = (await gqlSub.next(20_000)) as typeof g;
      expect(g.data.battleUpdated).toMatchObject({ status: 'ended', winnerId: c2.id });

      const view = (await http(b).get(`/api/battles/${battle.id}`).set('authorization', `Bearer ${watcherB.token}`).expect(200)).body;
      expect(view).toMatchObject({ status: 'ended', winnerId: c2.id, resultHash: ea.resultHash, totalVotes: 51, endedAt: expect.any(String) });
      const late = await registerUser(b);
      expect((await vote(late, battle.id, c3.id, b).expect(409)).body.message).toMatch(/ended/);
      expect(await emitAck(sA, 'battle_vote', { battleId: battle.id, participantId: c3.id })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
      // Ending again (a retried job, the sweep, another instance) changes nothing.
      const endedAt = view.endedAt;
      expect(await b.app.get(BattleEndService).end(battle.id)).toEqual({ done: false });
      expect(await a.app.get(BattleEndService).sweep({ reschedule: true })).toMatchObject({ ended: 0 });
      expect((await http(a).get(`/api/battles/${battle.id}`).set('authorization', `Bearer ${c1.token}`).expect(200)).body.endedAt).toBe(endedAt);
    }, 60_000);

    it('publishes a pseudonymised vote log that recounts to the result and hashes to resultHash', async () => {
      const res = await http(a).get(`/api/battles/${battle.id}/votes/log`).set('authorization', `Bearer ${watcherA.token}`).expect(200);
      const log = res.body as { battleId: string; resultHash: string; hashFormat: string; votes: { seq: number; voter: string; participantId: string; at: string }[] };
      expect(log.battleId).toBe(battle.id);
      expect(log.votes.map((v) => v.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      expect(recomputeHash(battle.id, log.votes)).toBe(log.resultHash);
      const view = (await http(a).get(`/api/battles/${battle.id}`).set('authorization', `Bearer ${watcherA.token}`).expect(200)).body;
      expect(log.resultHash).toBe(view.resultHash);
      // Recount.
      const counted = new Map<string, number>();
      for (const v of log.votes) counted.set(v.participantId, (counted.get(v.participantId) ?? 0) + 1);
      for (const p of view.participants) expect(counted.get(p.userId) ?? 0).toBe(p.votes);
      // Pseudonyms: one per voter, none of them a user id, none reused from another battle's log.
      const pseudonyms = new Set(log.votes.map((v) => v.voter));
      expect(pseudonyms.size).toBe(51);
      expect(log.votes.every((v) => /^[0-9a-f]{32}$/.test(v.voter))).toBe(true);
      const ids = new Set(voters.map((v) => v.id.replace(/-/g, '')));
      expect([...pseudonyms].some((p) => ids.has(p))).toBe(false);
      // A tampered log no longer matches.
      const tampered = log.votes.map((v, i) => (i === 0 ? { ...v, participantId: c3.id } : v));
      expect(recomputeHash(battle.id, tampered)).not.toBe(log.resultHash);
    });
  });

  it('splits the prize evenly on a tie (remainder to the first listed), a draw with no single winner', async () => {
    const before = await balanceOf(a, c1, 'USD');
    const battle = await create({ prize: { asset: 'USD', amount: '10.01' } });
    expect(await balanceOf(a, c1, 'USD')).toMatchObject({ held: '10.01' });
    await emitAck(sA, 'join_battle', { battleId: battle.id });
    // c1 2, c2 2, c3 1: c1 and c2 tie at the top.
    const picks = [c1, c1, c2, c2, c3];
    for (const [i, p] of picks.entries()) await vote(voters[i], battle.id, p.id).expect(201);
    const ended = nextEvent(sA, 'battle_ended', (p) => p.battleId === battle.id, 20_000);
    await endNow(battle.id);
    expect(await ended).toMatchObject({ winnerId: null, winnerIds: [c1.id, c2.id] });
    const view = (await http(a).get(`/api/battles/${battle.id}`).set('authorization', `Bearer ${c1.token}`).expect(200)).body;
    expect(view).toMatchObject({ status: 'ended', winnerId: null, winnerIds: [c1.id, c2.id], prizeOutcome: 'split', prize: { asset: 'USD', amount: '10.01' } });
    expect(view.participants.map((p: { prize: string | null }) => p.prize)).toEqual(['5.01', '5.00', null]);
    // The creator's own share went back to their available balance; c2's share was paid.
    expect(await balanceOf(a, c1, 'USD')).toEqual({ asset: 'USD', available: '95.00', held: '0.00', total: '95.00' });
    expect(before.total).toBe('100.00');
    expect(await balanceOf(a, c2, 'USD')).toEqual({ asset: 'USD', available: '5.00', held: '0.00', total: '5.00' });
    const paid = await ds.query(`SELECT kind, amount::text AS amount FROM ledger_transfers WHERE reference = $1`, [battle.id]);
    expect(paid).toEqual([{ kind: 'battle_prize', amount: '500' }]);
    // Participants and the creator were told, once each.
    const notes = await ds.query(`SELECT user_id, type FROM notifications WHERE dedupe_key = $1 ORDER BY user_id`, [`battle:${battle.id}:ended`]);
    expect(notes).toEqual([c1, c2, c3].map((u) => ({ user_id: u.id, type: 'battle' })).sort((x, y) => (x.user_id < y.user_id ? -1 : 1)));
  }, 60_000);

  it('ends by its own delayed job; with no votes there is no winner and the prize goes back', async () => {
    const battle = await create({ durationSeconds: 2, prize: { asset: 'USD', amount: '3.00' } });
    const ended = nextEvent(sB, 'battle_ended', (p) => p.battleId === battle.id, 20_000);
    await emitAck(sB, 'join_battle', { battleId: battle.id });
    expect(await balanceOf(a, c1, 'USD')).toMatchObject({ held: '3.00' });
    const e = await ended;
    expect(e).toEqual({ battleId: battle.id, winnerId: null, winnerIds: [], resultHash: createHash('sha256').update(`softchat-battle-v1 ${battle.id}\n`).digest('hex') });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(battle.endsAt) - 1000);
    const view = (await http(a).get(`/api/battles/${battle.id}`).set('authorization', `Bearer ${c1.token}`).expect(200)).body;
    expect(view).toMatchObject({ status: 'ended', winnerId: null, prizeOutcome: 'refunded', totalVotes: 0 });
    expect(await balanceOf(a, c1, 'USD')).toMatchObject({ held: '0.00', available: '95.00' });
    const log = (await http(a).get(`/api/battles/${battle.id}/votes/log`).set('authorization', `Bearer ${c1.token}`).expect(200)).body;
    expect(log).toMatchObject({ battleId: battle.id, resultHash: e.resultHash, votes: [] });
  }, 60_000);

  it('leave_battle lowers the shared count; GraphQL refuses unknown battles', async () => {
    const battle = await create({});
    await emitAck(sA, 'join_battle', { battleId: battle.id });
    expect(await emitAck(sB, 'join_battle', { battleId: battle.id })).toMatchObject({ ok: true, data: { viewerCount: 2 } });
    const dropped = nextEvent(sA, 'battle_update', (p) => p.battleId === battle.id && p.viewerCount === 1);
    expect(await emitAck(sB, 'leave_battle', { battleId: battle.id })).toEqual({ ok: true, data: { battleId: battle.id, viewerCount: 1 } });
    expect((await dropped).viewerCount).toBe(1);
    expect(await emitAck(sB, 'leave_battle', { battleId: 'nope' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const sub = subscribe(gqlWs(a, watcherA.token), `subscription { battleUpdated(battleId: "00000000-0000-4000-8000-000000000000") { battleId } }`);
    const refused = (await sub.next()) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors[0].extensions.code).toBe('NOT_FOUND');
  });
});
