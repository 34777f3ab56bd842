import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, connectSocket, emitAck, gql, http, loginAdmin, registerUser, TestUser } from './harness/clients';
import { balanceOf, deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';

/**
 * Battles: creation and its validation, reads and paging, and the vote rules on REST, Socket.IO
 * and GraphQL (one vote per user, participants refused, unknown and malformed ids), the
 * battle_vote reward, idempotent creation with a prize held in the ledger.
 * Live events, concurrency, the end and the vote log: battles-live.e2e-spec.ts; restarts:
 * battles-restart.e2e-spec.ts.
 */
describe('Battles', () => {
  let t: TestApp;
  let ds: DataSource;
  let admin: TestUser;
  let c1: TestUser;
  let c2: TestUser;
  let c3: TestUser;
  let fan: TestUser;
  let fan2: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { BATTLE_MIN_DURATION_SECONDS: '30' } });
    ds = t.app.get(getDataSourceToken());
    admin = await loginAdmin(t);
    [c1, c2, c3, fan, fan2] = await Promise.all([
      registerUser(t, { role: 'creator' }),
      registerUser(t, { role: 'creator' }),
      registerUser(t, { role: 'creator' }),
      registerUser(t),
      registerUser(t),
    ]);
    await deposit(t, admin, c1.id, 'USD', '100.00');
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
  });

  const auth = (u: TestUser) => `Bearer ${u.token}`;
  const get = (u: TestUser, path: string) => http(t).get(path).set('authorization', auth(u));
  const post = (u: TestUser, path: string, body: unknown = {}, key?: string) => {
    const r = http(t).post(path).set('authorization', auth(u));
    if (key) r.set('idempotency-key', key);
    return r.send(body as object);
  };
  const create = (u: TestUser, body: Record<string, unknown>, key?: string) =>
    post(u, '/api/battles', { title: 'Beat battle', participantIds: [c2.id, c3.id], durationSeconds: 600, ...body }, key);
  /** The error message as one string (validation errors come as a list). */
  const msg = (res: { body: { message: string | string[] } }) => [res.body.message].flat().join('; ');
  const battleCount = async () => Number((await ds.query(`SELECT COUNT(*)::int AS n FROM battles`))[0].n);

  describe('creation', () => {
    it('creates a battle (creators and admins) with the agreed shape', async () => {
      const res = await create(c1, {}).expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        title: 'Beat battle',
        status: 'live',
        participants: [
          { userId: c2.id, username: c2.username, votes: 0, prize: null },
          { userId: c3.id, username: c3.username, votes: 0, prize: null },
        ],
        viewerCount: 0,
        totalVotes: 0,
        durationSeconds: 600,
        endsAt: expect.any(String),
        winnerId: null,
        winnerIds: [],
        createdBy: c1.id,
        createdAt: expect.any(String),
        endedAt: null,
        prize: null,
        prizeOutcome: null,
        myVote: null,
        resultHash: null,
      });
      const span = Date.parse(res.body.endsAt) - Date.parse(res.body.createdAt);
      expect(span).toBeGreaterThanOrEqual(599_000);
      expect(span).toBeLessThanOrEqual(601_000);
      await create(admin, {}).expect(201);
    });

    it('refuses users without the creator role, and anonymous callers', async () => {
      const res = await create(fan, {}).expect(403);
      expect(res.body.message).toContain('creator');
      await http(t).post('/api/battles').send({ title: 'x', participantIds: [c2.id, c3.id], durationSeconds: 60 }).expect(401);
    });

    it.each([
      [{ title: '' }, 'title'],
      [{ title: 5 }, 'title'],
      [{ title: 'x'.repeat(121) }, 'title'],
      [{ participantIds: undefined }, 'participantIds'],
      [{ participantIds: 'abc' }, 'participantIds'],
      [{ participantIds: [] }, 'participantIds'],
      [{ participantIds: ['not-a-uuid', 'x'] }, 'participantIds'],
      [{ durationSeconds: undefined }, 'durationSeconds'],
      [{ durationSeconds: '60' }, 'durationSeconds'],
      [{ durationSeconds: 29 }, 'durationSeconds'],
      [{ durationSeconds: 86401 }, 'durationSeconds'],
      [{ durationSeconds: 60.5 }, 'durationSeconds'],
      [{ prize: 'lots' }, 'prize'],
      [{ prize: { asset: 'XYZ', amount: '1' } }, 'prize.asset'],
      [{ prize: { asset: 'USD', amount: 5 } }, 'prize.amount'],
      [{ prize: { asset: 'USD', amount: '-1' } }, 'prize.amount'],
      [{ prize: { asset: 'USD', amount: '0.001' } }, 'prize.amount'],
      [{ prize: { asset: 'USD', amount: '0' } }, 'prize.amount'],
    ])('400 naming the field for %j', async (body, field) => {
      const before = await battleCount();
      const res = await create(c1, body).expect(400);
      expect(JSON.stringify(res.body.message)).toContain(field);
      expect(await battleCount()).toBe(before);
    });

    it('needs 2 to 8 distinct creators', async () => {
      const nine = await Promise.all(Array.from({ length: 9 }, () => registerUser(t, { role: 'creator' })));
      expect(msg(await create(c1, { participantIds: nine.map((u) => u.id) }).expect(400))).toContain('participantIds');
      await create(c1, { participantIds: nine.slice(0, 8).map((u) => u.id) }).expect(201);
      expect(msg(await create(c1, { participantIds: [c2.id, c2.id] }).expect(400))).toContain('distinct');
      expect(msg(await create(c1, { participantIds: [c2.id] }).expect(400))).toContain('participantIds');
      // An unknown user: 404 naming it; an existing user who is not a creator: 422.
      const ghost = '00000000-0000-4000-8000-000000000000';
      expect(msg(await create(c1, { participantIds: [c2.id, ghost] }).expect(404))).toContain(ghost);
      const r = await create(c1, { participantIds: [c2.id, fan.id] }).expect(422);
      expect(r.body.message).toContain(fan.id);
    });

    it('holds the prize from the creator at creation, and creates nothing without the funds', async () => {
      const before = await battleCount();
      const poor = await create(c1, { prize: { asset: 'USD', amount: '100.01' } }).expect(422);
      expect(poor.body.message).toMatch(/insufficient/i);
      expect(await battleCount()).toBe(before);
      expect(await balanceOf(t, c1, 'USD')).toEqual({ asset: 'USD', available: '100.00', held: '0.00', total: '100.00' });

      const res = await create(c1, { prize: { asset: 'USD', amount: '12.50' } }, 'battle-prize-1').expect(201);
      expect(res.body.prize).toEqual({ asset: 'USD', amount: '12.50' });
      expect(await balanceOf(t, c1, 'USD')).toEqual({ asset: 'USD', available: '87.50', held: '12.50', total: '100.00' });
      // A replay of the key returns the same battle and holds nothing more; another body with it is a conflict.
      const again = await create(c1, { prize: { asset: 'USD', amount: '12.50' } }, 'battle-prize-1').expect(201);
      expect(again.body.id).toBe(res.body.id);
      expect(await balanceOf(t, c1, 'USD')).toMatchObject({ held: '12.50' });
      await create(c1, { prize: { asset: 'USD', amount: '13.00' } }, 'battle-prize-1').expect(409);
    });

    it('creates over GraphQL, with an idempotency key', async () => {
      const q = `mutation($input: CreateBattleInput!, $key: String) { createBattle(input: $input, idempotencyKey: $key) {
        id status participants { userId username votes } prize { asset amount } endsAt myVote resultHash } }`;
      const input = { title: 'GraphQL battle', participantIds: [c2.id, c3.id], durationSeconds: 300, prize: { asset: 'USD', amount: '1.00' } };
      const a = await gql(t, q, { input, key: 'gql-battle-1' }, c1.token).expect(200);
      expect(a.body.errors).toBeUndefined();
      expect(a.body.data.createBattle).toMatchObject({ status: 'live', prize: { asset: 'USD', amount: '1.00' }, myVote: null, resultHash: null });
      const b = await gql(t, q, { input, key: 'gql-battle-1' }, c1.token).expect(200);
      expect(b.body.data.createBattle.id).toBe(a.body.data.createBattle.id);
      expect(await balanceOf(t, c1, 'USD')).toMatchObject({ held: '13.50' });
      const bad = await gql(t, q, { input: { ...input, durationSeconds: 5 } }, c1.token).expect(200);
      expect(bad.body.errors[0].extensions.code).toBe('BAD_REQUEST');
      expect(bad.body.errors[0].message).toContain('durationSeconds');
      const denied = await gql(t, q, { input }, fan.token).expect(200);
      expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    });
  });

  describe('reads', () => {
    it('gets one battle; unknown → 404, malformed → 400 naming battleId', async () => {
      const b = (await create(c1, {}).expect(201)).body;
      expect((await get(fan, `/api/battles/${b.id}`).expect(200)).body).toMatchObject({ id: b.id, status: 'live', myVote: null });
      await get(fan, '/api/battles/00000000-0000-4000-8000-000000000000').expect(404);
      expect(msg(await get(fan, '/api/battles/nope').expect(400))).toContain('battleId');
      await http(t).get(`/api/battles/${b.id}`).expect(401);
    });

    it('lists live battles first, newest first, with cursors', async () => {
      const ended = (await create(c1, { title: 'Old one' }).expect(201)).body;
      await ds.query(`UPDATE battles SET status = 'ended', ended_at = now(), ends_at = now() WHERE id = $1`, [ended.id]);
      const fresh = (await create(c1, { title: 'New one' }).expect(201)).body;
      const all: { id: string; status: string }[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { items: { id: string; status: string }[]; nextCursor: string | null } } = await get(
          fan,
          `/api/battles?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        ).expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        all.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(all.length).toBe(await battleCount());
      expect(new Set(all.map((b) => b.id)).size).toBe(all.length);
      const firstEnded = all.findIndex((b) => b.status === 'ended');
      expect(firstEnded).toBeGreaterThan(0);
      expect(all.slice(firstEnded).every((b) => b.status === 'ended')).toBe(true);
      expect(all[0].id).toBe(fresh.id);
      const endedOnly = await get(fan, '/api/battles?status=ended').expect(200);
      expect(endedOnly.body.items.map((b: { id: string }) => b.id)).toContain(ended.id);
      expect(endedOnly.body.items.every((b: { status: string }) => b.status === 'ended')).toBe(true);
      expect(msg(await get(fan, '/api/battles?status=over').expect(400))).toContain('status');
      expect(msg(await get(fan, '/api/battles?limit=0').expect(400))).toContain('limit');
      expect(msg(await get(fan, '/api/battles?cursor=zzz').expect(400))).toContain('cursor');
    });

    it('reads over GraphQL', async () => {
      const b = (await create(c1, {}).expect(201)).body;
      const one = await gql(t, `query($id: ID!) { battle(battleId: $id) { id title participants { userId votes } viewerCount winnerId } }`, { id: b.id }, fan.token);
      expect(one.body.data.battle).toEqual({ id: b.id, title: 'Beat battle', participants: [{ userId: c2.id, votes: 0 }, { userId: c3.id, votes: 0 }], viewerCount: 0, winnerId: null });
      const page = await gql(t, `{ battles(status: "live", limit: 2) { items { id status } nextCursor } }`, {}, fan.token);
      expect(page.body.data.battles.items).toHaveLength(2);
      expect(page.body.data.battles.nextCursor).toEqual(expect.any(String));
      const missing = await gql(t, `query { battle(battleId: "00000000-0000-4000-8000-000000000000") { id } }`, {}, fan.token);
      expect(missing.body.errors[0].extensions.code).toBe('NOT_FOUND');
      const bad = await gql(t, `query { battle(battleId: "x") { id } }`, {}, fan.token);
      expect(bad.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    });
  });

  describe('votes', () => {
    let battle: { id: string };
    beforeAll(async () => {
      battle = (await create(c1, { participantIds: [c1.id, c2.id, c3.id] }).expect(201)).body;
    });

    it('counts a REST vote (201 with myVote) and refuses a second one with 409 ALREADY_VOTED', async () => {
      const res = await post(fan, `/api/battles/${battle.id}/votes`, { participantId: c2.id }).expect(201);
      expect(res.body).toMatchObject({ id: battle.id, myVote: c2.id, totalVotes: 1 });
      expect(res.body.participants.find((p: { userId: string }) => p.userId === c2.id).votes).toBe(1);
      const again = await post(fan, `/api/battles/${battle.id}/votes`, { participantId: c3.id }).expect(409);
      expect(again.body).toMatchObject({ statusCode: 409, details: { code: 'ALREADY_VOTED' } });
      expect((await get(fan, `/api/battles/${battle.id}`).expect(200)).body).toMatchObject({ totalVotes: 1, myVote: c2.id });
      // The vote earned the battle_vote reward (paid by the rewards queue).
      const [reward] = await ds.query(`SELECT action, target_id FROM rewards WHERE user_id = $1 AND action = 'battle_vote'`, [fan.id]);
      expect(reward).toEqual({ action: 'battle_vote', target_id: battle.id });
    });

    it('refuses participants (403), non-participants as targets (400), unknown battles (404), malformed ids (400)', async () => {
      expect((await post(c2, `/api/battles/${battle.id}/votes`, { participantId: c3.id }).expect(403)).body.message).toMatch(/own battle/);
      expect((await post(c1, `/api/battles/${battle.id}/votes`, { participantId: c3.id }).expect(403)).body.message).toMatch(/own battle/);
      expect(msg(await post(fan2, `/api/battles/${battle.id}/votes`, { participantId: fan.id }).expect(400))).toContain('participantId');
      await post(fan2, '/api/battles/00000000-0000-4000-8000-000000000000/votes', { participantId: c2.id }).expect(404);
      expect(msg(await post(fan2, `/api/battles/${battle.id}/votes`, { participantId: 'c2' }).expect(400))).toContain('participantId');
      expect(msg(await post(fan2, `/api/battles/${battle.id}/votes`, {}).expect(400))).toContain('participantId');
      expect(msg(await post(fan2, '/api/battles/zzz/votes', { participantId: c2.id }).expect(400))).toContain('battleId');
      await http(t).post(`/api/battles/${battle.id}/votes`).send({ participantId: c2.id }).expect(401);
      expect((await get(fan2, `/api/battles/${battle.id}`).expect(200)).body.totalVotes).toBe(1);
    });

    it('votes over Socket.IO with an ack, and refuses a second with ALREADY_VOTED', async () => {
      const voter = await registerUser(t);
      const s = await connectSocket(t, voter.token);
      const first = await emitAck(s, 'battle_vote', { battleId: battle.id, participantId: c3.id });
      expect(first).toMatchObject({ ok: true, data: { id: battle.id, myVote: c3.id } });
      const second = await emitAck(s, 'battle_vote', { battleId: battle.id, participantId: c3.id });
      expect(second).toMatchObject({ ok: false, error: { code: 'ALREADY_VOTED' } });
      expect(await emitAck(s, 'battle_vote', { battleId: battle.id })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('participantId') } });
      expect(await emitAck(s, 'battle_vote', { battleId: 'x', participantId: c3.id })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('battleId') } });
      const p = await connectSocket(t, c2.token);
      expect(await emitAck(p, 'battle_vote', { battleId: battle.id, participantId: c3.id })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      expect(await emitAck(s, 'join_battle', { battleId: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    });

    it('votes over GraphQL, and refuses a second with ALREADY_VOTED', async () => {
      const voter = await registerUser(t);
      const m = `mutation($b: ID!, $p: ID!) { voteBattle(battleId: $b, participantId: $p) { id myVote totalVotes participants { userId votes } } }`;
      const a = await gql(t, m, { b: battle.id, p: c1.id }, voter.token).expect(200);
      expect(a.body.errors).toBeUndefined();
      expect(a.body.data.voteBattle.myVote).toBe(c1.id);
      const b = await gql(t, m, { b: battle.id, p: c1.id }, voter.token).expect(200);
      expect(b.body.errors[0].extensions).toMatchObject({ code: 'ALREADY_VOTED', statusCode: 409 });
      const own = await gql(t, m, { b: battle.id, p: c1.id }, c3.token).expect(200);
      expect(own.body.errors[0].extensions.code).toBe('FORBIDDEN');
      const tallies = (await get(voter, `/api/battles/${battle.id}`).expect(200)).body.participants.map((x: { votes: number }) => x.votes);
      expect(tallies).toEqual([1, 1, 1]);
    });

    it('refuses votes once the battle is over (409), even before the end job ran', async () => {
      const b = (await create(c1, {}).expect(201)).body;
      await ds.query(`UPDATE battles SET ends_at = now() - interval '1 second' WHERE id = $1`, [b.id]);
      const res = await post(fan2, `/api/battles/${b.id}/votes`, { participantId: c2.id }).expect(409);
      expect(res.body.message).toMatch(/ended/);
      expect(res.body.details).toBeUndefined();
      // The vote log is published only once it has ended.
      await get(fan2, `/api/battles/${b.id}/votes/log`).expect(409);
    });
  });
});
