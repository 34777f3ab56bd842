import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, eventually, http, loginAdmin, registerUser, TestUser } from './harness/clients';
import { deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { JobsService } from '../src/core/queue/jobs.service';
import { OutboxService } from '../src/core/outbox/outbox.service';
import { withTransaction } from '../src/core/database/transaction';

/**
 * Issue 11, point 16: an escrow's notification is written in the escrow's own transaction (the
 * outbox) and delivered by a job. An instance that commits and then goes away before delivering
 * (closed here, with its queued job lost too) loses nothing: the next instance's start-up sweep
 * delivers it, exactly once, however many times it is enqueued.
 */
describe('transactional outbox', () => {
  let base: TestApp;
  let admin: TestUser;
  let ds: DataSource;
  const noWorkers = { QUEUE_WORKERS: 'false' };

  beforeAll(async () => {
    // Owns the database and Redis namespace; runs no workers, so nothing is delivered behind our back.
    base = await startTestApp({ env: noWorkers });
    admin = await loginAdmin(base);
    ds = base.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await base.close();
  });

  const escrowNotes = async (user: TestUser, escrowId: string) => {
    const res = await http(base).get(`/api/notifications/${user.id}`).set('authorization', `Bearer ${user.token}`).expect(200);
    return res.body.items.filter((n: any) => n.type === 'escrow' && n.data?.escrowId === escrowId);
  };
  const outboxRow = async (escrowId: string) =>
    (await ds.query(`SELECT id, delivered_at, attempts FROM outbox WHERE kind = 'p2p.escrow_notification' AND payload->'escrow'->>'id' = $1`, [escrowId]))[0];

  it('writes nothing to the outbox when the state change rolls back', async () => {
    const seller = await registerUser(base); // no funds: the hold fails, the escrow is not created
    const buyer = await registerUser(base);
    const before = (await ds.query(`SELECT count(*)::int AS n FROM outbox`))[0].n;
    await http(base)
      .post('/api/crypto/p2p/escrow')
      .set('authorization', `Bearer ${seller.token}`)
      .send({ buyerId: buyer.id, asset: 'BTC', amount: '0.01', fiatCurrency: 'USD', fiatAmount: '650.00', paymentMethod: 'SEPA', paymentWindowSeconds: 900 })
      .expect(422);
    expect((await ds.query(`SELECT count(*)::int AS n FROM outbox`))[0].n).toBe(before);
  });

  it('surfaces an entry that exhausted its attempts to operators, and lets an admin retry it once fixed', async () => {
    const outbox = base.app.get(OutboxService);
    const maxAttempts = 10; // OUTBOX_MAX_ATTEMPTS default
    let healthy = false;
    const delivered: string[] = [];
    outbox.register<{ n: number }>('test.flaky_receiver', async (payload, meta) => {
      if (!healthy) throw new Error('receiver is down');
      delivered.push(`${meta.id}:${payload.n}`);
    });
    const id = (await withTransaction(ds, (tx) => outbox.add(tx, { kind: 'test.flaky_receiver', payload: { n: 7 } })))!;
    const list = (state: string, token = admin.token) =>
      http(base).get(`/api/admin/outbox?state=${state}`).set('authorization', `Bearer ${token}`);

    for (let i = 0; i < maxAttempts; i++) await expect(outbox.deliver(id)).rejects.toThrow('receiver is down');
    // Dead now: the sweep leaves it, operators see it (list, metric), and it is never run on its own again.
    expect(await outbox.sweep(0)).toBe(0);
    expect((await outbox.deliver(id)).delivered).toBe(false);
    const dead = (await list('dead').expect(200)).body;
    expect(dead).toEqual([
      { id, kind: 'test.flaky_receiver', attempts: maxAttempts, lastError: 'receiver is down', createdAt: expect.any(String), deliveredAt: null, state: 'dead' },
    ]);
    expect((await list('pending').expect(200)).body.find((e: any) => e.id === id)).toBeUndefined();
    const metrics = (await http(base).get('/metrics').set('authorization', `Bearer ${admin.token}`)).text;
    expect(metrics).toMatch(/outbox_entries\{state="dead"\} 1/);

    // Only admins; bad input is named.
    const user = await registerUser(base);
    await list('dead', user.token).expect(403);
    expect(JSON.stringify((await list('lost').expect(400)).body.message)).toMatch(/state must be one of/);
    await http(base).post(`/api/admin/outbox/${id}/retry`).set('authorization', `Bearer ${user.token}`).expect(403);
    await http(base).post('/api/admin/outbox/not-a-uuid/retry').set('authorization', `Bearer ${admin.token}`).expect(400);
    await http(base).post('/api/admin/outbox/00000000-0000-4000-8000-000000000000/retry').set('authorization', `Bearer ${admin.token}`).expect(404);

    // Fixed, retried: attempts start over, it is delivered once, and a second retry is refused.
    healthy = true;
    const retried = (await http(base).post(`/api/admin/outbox/${id}/retry`).set('authorization', `Bearer ${admin.token}`).expect(202)).body;
    expect(retried).toMatchObject({ id, attempts: 0, state: 'pending' });
    expect(await outbox.deliver(id)).toEqual({ delivered: true }); // this instance runs no workers: deliver as the job would
    expect(delivered).toEqual([`${id}:7`]);
    expect((await list('delivered').expect(200)).body.find((e: any) => e.id === id)).toMatchObject({ state: 'delivered', lastError: null });
    await http(base).post(`/api/admin/outbox/${id}/retry`).set('authorization', `Bearer ${admin.token}`).expect(409);
    expect((await outbox.deliver(id)).delivered).toBe(false);
    expect(delivered).toHaveLength(1);
  });

  it('delivers a notification committed by an instance that went away before sending it, exactly once', async () => {
    const seller = await registerUser(base);
    const buyer = await registerUser(base);
    await deposit(base, admin, seller.id, 'BTC', '1');

    // The instance that commits the escrow (and its outbox row) and is gone before delivering.
    const doomed = await startTestApp({ shareWith: base, env: noWorkers });
    const open = async () =>
      (
        await http(doomed)
          .post('/api/crypto/p2p/escrow')
          .set('authorization', `Bearer ${seller.token}`)
          .send({ buyerId: buyer.id, asset: 'BTC', amount: '0.01', fiatCurrency: 'USD', fiatAmount: '650.00', paymentMethod: 'SEPA', paymentWindowSeconds: 900 })
          .expect(201)
      ).body;
    const lost = await open(); // its delivery job will be lost with the instance
    const kept = await open(); // its delivery job survives in Redis
    const lostRow = await outboxRow(lost.id);
    const keptRow = await outboxRow(kept.id);
    expect(lostRow).toMatchObject({ delivered_at: null, attempts: 0 });
    expect(keptRow).toMatchObject({ delivered_at: null, attempts: 0 });
    expect(await escrowNotes(buyer, lost.id)).toEqual([]);
    const queue = doomed.app.get(JobsService).queue('outbox');
    expect(await queue.getJob(`outbox-${keptRow.id}`)).toBeTruthy();
    await queue.remove(`outbox-${lostRow.id}`);
    await doomed.close();

    // A new instance with workers: its start-up sweep finds both undelivered rows.
    const next = await startTestApp({ shareWith: base });
    try {
      await next.app.get(OutboxService).ready();
      await eventually(async () => (await outboxRow(lost.id)).delivered_at !== null && (await outboxRow(kept.id)).delivered_at !== null, { timeoutMs: 15_000 });
      expect(await escrowNotes(buyer, lost.id)).toHaveLength(1);
      expect(await escrowNotes(buyer, kept.id)).toHaveLength(1);

      // Enqueued again (a second sweep, a duplicate job): still one notification each.
      const outbox = next.app.get(OutboxService);
      expect(await outbox.deliver(lostRow.id)).toMatchObject({ delivered: false });
      await outbox.sweep(0);
      expect(await escrowNotes(buyer, lost.id)).toHaveLength(1);
      expect(await escrowNotes(buyer, kept.id)).toHaveLength(1);
      expect((await outboxRow(lost.id)).attempts).toBe(1);

      // And a live change on the new instance is delivered through the outbox too.
      await http(next).post(`/api/crypto/p2p/escrow/${lost.id}/confirm`).set('authorization', `Bearer ${buyer.token}`).expect(200);
      await eventually(async () => (await escrowNotes(seller, lost.id)).some((n: any) => n.data.status === 'paid'), { timeoutMs: 10_000 });
    } finally {
      await next.close();
    }
  });
});
