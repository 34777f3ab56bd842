import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { clearRedisPrefix, createDatabase, dropDatabase, startTestApp, TestApp, testDbPrefix } from './harness/app';
import { closeClients, eventually, http, loginAdmin, registerUser, TestUser } from './harness/clients';
import { balanceOf, deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { JobsService } from '../src/core/queue/jobs.service';
import { endJobId } from '../src/modules/battles/battle-end.service';
import { BattlesJobs } from '../src/modules/battles/battles.jobs';

/**
 * A battle survives a restart between its start and its end, and ends once: the app stops with
 * two live battles, one of which has lost its delayed end job (as if Redis had lost it). The
 * first comes due while nothing runs and is ended by the start-up sweep of the next app; the
 * other is ended by its delayed job in the new app. Each prize is paid exactly once, and another
 * restart changes nothing.
 */
describe('Battles across a restart', () => {
  const db = `${testDbPrefix()}battles${randomBytes(3).toString('hex')}`;
  const prefix = `tb${randomBytes(4).toString('hex')}`;
  let t: TestApp | undefined;

  const start = async () => {
    t = await startTestApp({ emptyDatabase: { name: db, prefix, owner: false }, env: { BATTLE_MIN_DURATION_SECONDS: '1' } });
    return t;
  };
  const stop = async () => {
    await closeClients();
    await t!.close();
    t = undefined;
  };

  beforeAll(async () => {
    await createDatabase(db);
  });
  afterAll(async () => {
    if (t) await t.close();
    await dropDatabase(db);
    await clearRedisPrefix(prefix);
  });

  const ds = () => t!.app.get<DataSource>(getDataSourceToken());
  const row = async (id: string) =>
    (await ds().query(`SELECT status, winner_id, prize_outcome, ended_at, result_hash FROM battles WHERE id = $1`, [id]))[0] as {
      status: string;
      winner_id: string | null;
      prize_outcome: string | null;
      ended_at: Date | null;
      result_hash: string | null;
    };
  const prizeTransfers = async (id: string) =>
    ds().query(
      `SELECT t.kind, t.amount::text AS amount, a.user_id AS to FROM ledger_transfers t JOIN ledger_accounts a ON a.id = t.credit_account_id
       WHERE t.reference = $1 ORDER BY t.created_at`,
      [id],
    );

  it('ends each battle once, pays each prize once, whether its job survived or not', async () => {
    let app = await start();
    const admin = await loginAdmin(app);
    const [c1, c2, c3, v1, v2, v3] = await Promise.all([
      registerUser(app, { role: 'creator' }),
      registerUser(app, { role: 'creator' }),
      registerUser(app, { role: 'creator' }),
      registerUser(app),
      registerUser(app),
      registerUser(app),
    ]);
    await deposit(app, admin, c1.id, 'USD', '50.00');
    const create = async (durationSeconds: number, amount: string) =>
      (
        await http(app)
          .post('/api/battles')
          .set('authorization', `Bearer ${c1.token}`)
          .send({ title: 'Restart battle', participantIds: [c2.id, c3.id], durationSeconds, prize: { asset: 'USD', amount } })
          .expect(201)
      ).body as { id: string; endsAt: string };
    const vote = (u: TestUser, battleId: string, p: TestUser) =>
      http(app).post(`/api/battles/${battleId}/votes`).set('authorization', `Bearer ${u.token}`).send({ participantId: p.id }).expect(201);

    const lost = await create(3, '10.00'); // comes due while the app is down; its job is lost
    const kept = await create(15, '5.00'); // comes due after the restart; its job survives
    await vote(v1, lost.id, c2);
    await vote(v2, lost.id, c2);
    await vote(v3, lost.id, c3);
    await vote(v1, kept.id, c3);
    expect(await balanceOf(app, c1, 'USD')).toMatchObject({ held: '15.00', total: '50.00' });

    const queue = app.app.get(JobsService).queue('battles');
    expect(await queue.getJob(endJobId(kept.id))).toBeTruthy();
    await (await queue.getJob(endJobId(lost.id)))!.remove();
    await stop();

    // Nothing runs while the first battle's time passes.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(lost.endsAt) - Date.now() + 300)));

    app = await start();
    await app.app.get(BattlesJobs).ready();
    const ended = await row(lost.id);
    expect(ended).toMatchObject({ status: 'ended', winner_id: c2.id, prize_outcome: 'paid', result_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await prizeTransfers(lost.id)).toEqual([{ kind: 'battle_prize', amount: '1000', to: c2.id }]);

    // The other ends by the delayed job it kept across the restart.
    await eventually(async () => (await row(kept.id)).status === 'ended', { timeoutMs: 40_000, intervalMs: 200 });
    expect(await row(kept.id)).toMatchObject({ status: 'ended', winner_id: c3.id, prize_outcome: 'paid' });
    expect(await prizeTransfers(kept.id)).toEqual([{ kind: 'battle_prize', amount: '500', to: c3.id }]);
    const before = { lost: await row(lost.id), kept: await row(kept.id) };

    // Another restart (its sweep runs again) changes nothing: ended once, paid once.
    await stop();
    app = await start();
    await app.app.get(BattlesJobs).ready();
    expect(await row(lost.id)).toEqual(before.lost);
    expect(await row(kept.id)).toEqual(before.kept);
    expect(await prizeTransfers(lost.id)).toHaveLength(1);
    expect(await prizeTransfers(kept.id)).toHaveLength(1);
    const fresh = async (u: TestUser) => ({ ...u, token: (await http(app).post('/api/auth/login').send({ email: u.email, password: u.password }).expect(200)).body.accessToken });
    expect(await balanceOf(app, await fresh(c1), 'USD')).toEqual({ asset: 'USD', available: '35.00', held: '0.00', total: '35.00' });
    expect(await balanceOf(app, await fresh(c2), 'USD')).toMatchObject({ total: '10.00' });
    expect(await balanceOf(app, await fresh(c3), 'USD')).toMatchObject({ total: '5.00' });
    const view = (await http(app).get(`/api/battles/${lost.id}`).set('authorization', `Bearer ${(await fresh(v1)).token}`).expect(200)).body;
    expect(view).toMatchObject({ status: 'ended', winnerId: c2.id, myVote: c2.id, resultHash: ended.result_hash!.trim() });

    expect((await verifyLedger(ds())).filter((r) => !r.ok)).toEqual([]);
    await stop();
  }, 180_000);
});
