import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, http, loginAdmin, registerUser, TestUser } from './harness/clients';
import { balanceOf, deposit, transfer } from './harness/money';
import { LedgerService } from '../src/modules/ledger/ledger.service';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import type { PostItem, TransferInput } from '../src/modules/ledger/ledger.types';

/**
 * Group commit for money (issue 16): autocommitted transfers that arrive while a batch statement
 * is in flight share the next `ledger_post_batch` call, each still atomic, idempotent and refused
 * on its own; linked groups commit whole or not at all; concurrent batches never deadlock.
 */
describe('ledger batch posting and group commit', () => {
  let t: TestApp;
  let t2: TestApp;
  let admin: TestUser;
  let ledger: LedgerService;
  let ds: DataSource;
  beforeAll(async () => {
    // One batch in flight per instance: everything that arrives meanwhile waits for the next statement.
    const env = { LEDGER_GROUP_COMMIT: 'true', LEDGER_BATCH_CONCURRENCY: '1' };
    t = await startTestApp({ env });
    t2 = await startTestApp({ shareWith: t, env });
    admin = await loginAdmin(t);
    ledger = t.app.get(LedgerService);
    ds = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t2.close();
    await t.close();
  });

  const users = (n: number) => Promise.all(Array.from({ length: n }, () => registerUser(t)));
  const total = async (list: TestUser[], asset: string) => {
    let sum = 0n;
    for (const u of list) {
      const b = await balanceOf(t, u, asset);
      expect(b.available.startsWith('-')).toBe(false);
      sum += BigInt(b.total.replace('.', ''));
    }
    return sum;
  };
  const move = (key: string, from: TestUser, to: TestUser, amount: bigint): TransferInput => ({
    key,
    kind: 'transfer',
    from: { userId: from.id },
    to: { userId: to.id },
    asset: 'USD',
    amount,
  });

  it('posts a concurrent burst in fewer statements than transfers; refused ones get 422 alone', async () => {
    const funded = await users(8);
    const broke = await users(2);
    for (const u of funded) await deposit(t, admin, u.id, 'USD', '10.00');
    const before = { ...ledger.batchStats };
    const sumBefore = await total([...funded, ...broke], 'USD');

    // Each funded user sends exactly its balance in five transfers to other funded users (never
    // refused, whatever the order); the broke users' transfers must all be refused.
    const sends: { from: TestUser; to: TestUser; refused: boolean }[] = [];
    funded.forEach((u, i) => {
      for (let k = 1; k <= 5; k++) sends.push({ from: u, to: funded[(i + k) % funded.length], refused: false });
    });
    broke.forEach((u) => {
      for (let k = 0; k < 5; k++) sends.push({ from: u, to: funded[k], refused: true });
    });
    const results = await Promise.all(sends.map((s) => transfer(t, s.from, { toUserId: s.to.id, asset: 'USD', amount: '2.00' })));

    results.forEach((r, i) => {
      if (sends[i].refused) {
        expect(r.status).toBe(422);
        expect(r.body).toMatchObject({ statusCode: 422, message: expect.stringMatching(/Insufficient USD/) });
      } else {
        expect(r.status).toBe(201);
        expect(r.body).toMatchObject({ fromUserId: sends[i].from.id, toUserId: sends[i].to.id, amount: '2.00', status: 'completed' });
      }
    });
    expect(new Set(results.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(40);
    expect(await total([...funded, ...broke], 'USD')).toBe(sumBefore);
    for (const u of funded) expect(await balanceOf(t, u, 'USD')).toMatchObject({ total: '10.00', held: '0.00' });

    const statements = ledger.batchStats.statements - before.statements;
    const legs = ledger.batchStats.legs - before.legs;
    expect(legs).toBe(sends.length);
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(sends.length);
  });

  it('treats one key twice in a batch, or retried, as one transfer and a replay with the same result', async () => {
    const [a, b, c] = await users(3);
    await deposit(t, admin, a.id, 'USD', '5.00');
    const key = `dup-${a.id}`;
    const [first, second, other] = await ledger.postMany([[move(key, a, b, 100n)], [move(key, a, b, 100n)], [move(`other-${a.id}`, a, c, 50n)]]);
    expect(first).toMatchObject({ ok: true, transfers: [{ replayed: false }] });
    expect(second).toMatchObject({ ok: true, transfers: [{ replayed: true }] });
    expect(other).toMatchObject({ ok: true, transfers: [{ replayed: false }] });
    const id = first.ok ? first.transfers[0].id : '';
    expect(second.ok && second.transfers[0].id).toBe(id);

    // Retried through the group-commit path, concurrently: one transfer, the same id.
    const retried = await Promise.all([1, 2, 3].map(() => ledger.transfer(move(key, a, b, 100n))));
    expect(retried.map((r) => r.id)).toEqual([id, id, id]);
    expect(retried.every((r) => r.replayed)).toBe(true);
    // The same key for another movement is a conflict, and only for that caller.
    const [reused, fine] = await ledger.postMany([[move(key, a, b, 101n)], [move(`fine-${a.id}`, a, c, 1n)]]);
    expect(reused).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(fine).toMatchObject({ ok: true });
    expect(await balanceOf(t, a, 'USD')).toMatchObject({ total: '3.49' });
    expect(await balanceOf(t, b, 'USD')).toMatchObject({ total: '1.00' });
  });

  it('posts a linked group whole or not at all, without failing its neighbours', async () => {
    const [a, b, c] = await users(3);
    await deposit(t, admin, a.id, 'USD', '10.00');
    await deposit(t, admin, c.id, 'USD', '1.00');
    const [linked, neighbour] = await ledger.postMany([
      // a → b succeeds on its own, but b → c needs more than b will have: neither may post.
      [move(`l1-${a.id}`, a, b, 500n), move(`l2-${a.id}`, b, c, 501n)],
      [move(`n-${c.id}`, c, a, 100n)],
    ]);
    expect(linked).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_FUNDS' } });
    expect(neighbour).toMatchObject({ ok: true, transfers: [{ replayed: false }] });
    expect(await balanceOf(t, a, 'USD')).toMatchObject({ total: '11.00' });
    expect(await balanceOf(t, b, 'USD')).toMatchObject({ total: '0.00' });
    expect(await balanceOf(t, c, 'USD')).toMatchObject({ total: '0.00' });
    const hist = await http(t).get(`/api/wallet/${b.id}/transactions`).set('authorization', `Bearer ${b.token}`).expect(200);
    expect(hist.body.items).toEqual([]);

    // The same group when it fits: both legs, in order, the second naming the first.
    const ok = await ledger.transferLinked([move(`m1-${a.id}`, a, b, 500n), { ...move(`m2-${a.id}`, b, c, 200n), referencePrevious: true }]);
    expect(ok.map((x) => x.replayed)).toEqual([false, false]);
    expect(ok[1].reference).toBe(ok[0].id);
    expect(await balanceOf(t, b, 'USD')).toMatchObject({ total: '3.00' });
    expect(await balanceOf(t, c, 'USD')).toMatchObject({ total: '2.00' });

    // A missing recipient refuses that group only.
    const [missing, fine] = await ledger.postMany([
      [{ ...move(`x-${a.id}`, a, b, 1n), to: { userId: '00000000-0000-4000-8000-000000000000' } }],
      [move(`y-${a.id}`, a, b, 1n)],
    ]);
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(fine).toMatchObject({ ok: true });
  });

  it('posts from holds in a batch, checking what remains held', async () => {
    const [s, b] = await users(2);
    await deposit(t, admin, s.id, 'USD', '10.00');
    const hold = await ledger.hold({ key: `bh-${s.id}`, kind: 'order_hold', account: { userId: s.id }, asset: 'USD', amount: 600n });
    const post = (key: string, amount: bigint, final = false): PostItem => ({ key, holdId: hold.id, amount, to: { userId: b.id }, kind: 'trade', asset: 'USD', final });
    const [p1, tooMuch, p2] = await ledger.postMany([[post(`bp1-${s.id}`, 200n)], [post(`bp2-${s.id}`, 401n)], [post(`bp3-${s.id}`, 100n, true)]]);
    expect(p1).toMatchObject({ ok: true });
    expect(tooMuch).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(p2).toMatchObject({ ok: true });
    expect(await ledger.getHold(hold.id)).toMatchObject({ status: 'posted', remaining: 0n });
    expect(await balanceOf(t, s, 'USD')).toEqual({ asset: 'USD', available: '7.00', held: '0.00', total: '7.00' });
    expect(await balanceOf(t, b, 'USD')).toMatchObject({ total: '3.00' });
    const [closed] = await ledger.postMany([[post(`bp4-${s.id}`, 1n)]]);
    expect(closed).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('takes 100 concurrent transfers into one hot account, every one posted, the balance exact', async () => {
    const hot = (await users(1))[0];
    const senders = await users(10);
    for (const u of senders) await deposit(t, admin, u.id, 'USD', '10.00');
    const before = ledger.batchStats.statements;
    const res = await Promise.all(
      Array.from({ length: 100 }, (_, i) => transfer(i % 2 ? t : t2, senders[i % 10], { toUserId: hot.id, asset: 'USD', amount: '1.00' })),
    );
    expect(res.map((r) => r.status)).toEqual(Array(100).fill(201));
    expect(await balanceOf(t, hot, 'USD')).toEqual({ asset: 'USD', available: '100.00', held: '0.00', total: '100.00' });
    for (const u of senders) expect((await balanceOf(t, u, 'USD')).total).toBe('0.00');
    expect(ledger.batchStats.statements - before).toBeLessThan(50);
  });

  it('runs crossing transfers on two instances at once without a deadlock', async () => {
    const list = await users(6);
    for (const u of list) await deposit(t, admin, u.id, 'USD', '100.00');
    const sumBefore = await total(list, 'USD');
    const sends: Promise<{ status: number; body: any }>[] = [];
    for (let round = 0; round < 5; round++) {
      list.forEach((from, i) =>
        list.forEach((to, j) => {
          if (i !== j) sends.push(transfer((i + j + round) % 2 ? t : t2, from, { toUserId: to.id, asset: 'USD', amount: '0.50' }));
        }),
      );
    }
    const res = await Promise.all(sends);
    expect(res.filter((r) => r.status !== 201).map((r) => [r.status, r.body?.message])).toEqual([]);
    expect(await total(list, 'USD')).toBe(sumBefore);
    // Each user sent and received the same: every balance is back where it started.
    for (const u of list) expect((await balanceOf(t, u, 'USD')).total).toBe('100.00');
  });
});

describe('wallet transfer with a fee: one linked group in the shared batch', () => {
  let t: TestApp;
  let admin: TestUser;
  let ds: DataSource;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRANSFER_FEE_BPS: '100', LEDGER_GROUP_COMMIT: 'true' } });
    admin = await loginAdmin(t);
    ds = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
  });

  it('moves the amount and the fee together, or neither', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    await deposit(t, admin, a.id, 'USD', '10.10');
    const res = await transfer(t, a, { toUserId: b.id, asset: 'USD', amount: '10.00' }, 'fee-1').expect(201);
    expect(res.body).toMatchObject({ amount: '10.00', fee: '0.10', status: 'completed' });
    expect(await balanceOf(t, a, 'USD')).toMatchObject({ total: '0.00' });
    expect(await balanceOf(t, b, 'USD')).toMatchObject({ total: '10.00' });
    const hist = await http(t).get(`/api/wallet/${a.id}/transactions`).set('authorization', `Bearer ${a.token}`).expect(200);
    expect(hist.body.items.map((i: any) => [i.type, i.amount])).toEqual([
      ['fee', '-0.10'],
      ['transfer', '-10.00'],
      ['deposit', '10.10'],
    ]);
    expect(hist.body.items[0].reference).toBe(res.body.id);

    // b can pay 9.90 but not 9.90 plus its 0.10 fee: refused whole (422), nothing moved.
    await transfer(t, b, { toUserId: a.id, asset: 'USD', amount: '9.91' }).expect(422);
    expect(await balanceOf(t, b, 'USD')).toMatchObject({ total: '10.00' });
    expect(await balanceOf(t, a, 'USD')).toMatchObject({ total: '0.00' });
    // A recipient that does not exist: 404, nothing moved.
    await transfer(t, b, { toUserId: '00000000-0000-4000-8000-000000000000', asset: 'USD', amount: '1.00' }).expect(404);
    expect(await balanceOf(t, b, 'USD')).toMatchObject({ total: '10.00' });
  });
});
