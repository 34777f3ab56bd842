import { startTestApp, TestApp } from './harness/app';
import { closeClients, connectSocket, gqlWs, http, loginAdmin, nextEvent, registerUser, subscribe, TestUser, waitForGqlSubscriber, gql } from './harness/clients';
import { balanceOf, deposit, transfer } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';

describe('wallet and ledger (REST, sockets, GraphQL)', () => {
  let t: TestApp;
  let admin: TestUser;
  let ds: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await loginAdmin(t);
    ds = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
  });

  it('credits exact deposits, once per reference', async () => {
    const u = await registerUser(t);
    const first = await http(t)
      .post(`/api/admin/wallet/${u.id}/deposit`)
      .set('authorization', `Bearer ${admin.token}`)
      .send({ asset: 'BTC', amount: '0.00150000', reference: 'txid-abc' })
      .expect(201);
    expect(first.body).toMatchObject({ userId: u.id, asset: 'BTC', amount: '0.00150000', reference: 'txid-abc', replayed: false });
    const again = await http(t)
      .post(`/api/admin/wallet/${u.id}/deposit`)
      .set('authorization', `Bearer ${admin.token}`)
      .send({ asset: 'BTC', amount: '0.0015', reference: 'txid-abc' })
      .expect(201);
    expect(again.body).toMatchObject({ id: first.body.id, replayed: true });
    await http(t)
      .post(`/api/admin/wallet/${u.id}/deposit`)
      .set('authorization', `Bearer ${admin.token}`)
      .send({ asset: 'BTC', amount: '2', reference: 'txid-abc' })
      .expect(409);
    expect(await balanceOf(t, u, 'BTC')).toEqual({ asset: 'BTC', available: '0.00150000', held: '0.00000000', total: '0.00150000' });
    const eth = await deposit(t, admin, u.id, 'ETH', '0.000000000000000001');
    expect(eth.amount).toBe('0.000000000000000001');
    expect((await balanceOf(t, u, 'ETH')).total).toBe('0.000000000000000001');

    await http(t).post(`/api/admin/wallet/${u.id}/deposit`).set('authorization', `Bearer ${u.token}`).send({ asset: 'BTC', amount: '1', reference: 'x' }).expect(403);
    await http(t)
      .post(`/api/admin/wallet/00000000-0000-4000-8000-000000000000/deposit`)
      .set('authorization', `Bearer ${admin.token}`)
      .send({ asset: 'BTC', amount: '1', reference: 'nobody' })
      .expect(404);
  });

  it('transfers exactly, and the history explains every balance', async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    await deposit(t, admin, alice.id, 'USD', '100.00');
    const res = await transfer(t, alice, { toUserId: bob.id, asset: 'USD', amount: '33.33', note: 'lunch' }).expect(201);
    expect(res.body).toMatchObject({ fromUserId: alice.id, toUserId: bob.id, asset: 'USD', amount: '33.33', fee: '0.00', note: 'lunch', status: 'completed' });
    await transfer(t, bob, { toUserId: alice.id, asset: 'USD', amount: '0.01' }).expect(201);

    expect(await balanceOf(t, alice, 'USD')).toEqual({ asset: 'USD', available: '66.68', held: '0.00', total: '66.68' });
    expect(await balanceOf(t, bob, 'USD')).toEqual({ asset: 'USD', available: '33.32', held: '0.00', total: '33.32' });

    const hist = await http(t).get(`/api/wallet/${alice.id}/transactions`).set('authorization', `Bearer ${alice.token}`).expect(200);
    expect(hist.body.nextCursor).toBeNull();
    expect(hist.body.items.map((i: any) => [i.type, i.amount, i.balanceAfter, i.counterpartyId])).toEqual([
      ['transfer', '0.01', '66.68', bob.id],
      ['transfer', '-33.33', '66.67', bob.id],
      ['deposit', '100.00', '100.00', null],
    ]);
    expect(hist.body.items[1]).toMatchObject({ id: res.body.id, note: 'lunch', asset: 'USD', createdAt: expect.any(String) });
  });

  it('refuses bad amounts and inputs with 400 naming the field', async () => {
    const u = await registerUser(t);
    const v = await registerUser(t);
    const cases: [unknown, RegExp][] = [
      [1.5, /amount must be a decimal string/],
      ['1e3', /amount/],
      ['0', /amount/],
      ['-1', /amount/],
      ['0.001', /amount has too many decimal places: USD allows at most 2/],
      ['abc', /amount/],
      ['', /amount/],
      [' 1', /amount/],
    ];
    for (const [amount, msg] of cases) {
      const res = await transfer(t, u, { toUserId: v.id, asset: 'USD', amount }).expect(400);
      expect(JSON.stringify(res.body.message)).toMatch(msg);
    }
    expect(JSON.stringify((await transfer(t, u, { toUserId: v.id, asset: 'DOGE', amount: '1' }).expect(400)).body.message)).toMatch(/asset/);
    expect(JSON.stringify((await transfer(t, u, { toUserId: 'bob', asset: 'USD', amount: '1' }).expect(400)).body.message)).toMatch(/toUserId/);
    expect((await transfer(t, u, { toUserId: u.id, asset: 'USD', amount: '1' }).expect(400)).body.message).toMatch(/another user/);
    await transfer(t, u, { toUserId: '00000000-0000-4000-8000-000000000000', asset: 'USD', amount: '1' }).expect(404);
    await transfer(t, u, { toUserId: v.id, asset: 'USD', amount: '1', extra: true }).expect(400);
  });

  it('answers insufficient funds with 422 and moves nothing', async () => {
    const u = await registerUser(t);
    const v = await registerUser(t);
    await deposit(t, admin, u.id, 'SOFT', '5');
    const res = await transfer(t, u, { toUserId: v.id, asset: 'SOFT', amount: '5.00000001' }).expect(422);
    expect(res.body).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', message: expect.stringMatching(/Insufficient SOFT/) });
    expect((await balanceOf(t, u, 'SOFT')).total).toBe('5.00000000');
    expect((await balanceOf(t, v, 'SOFT')).total).toBe('0.00000000');
    const hist = await http(t).get(`/api/wallet/${v.id}/transactions`).set('authorization', `Bearer ${v.token}`).expect(200);
    expect(hist.body.items).toEqual([]);
  });

  it('replays an Idempotency-Key: same response, nothing moved; another body → 409', async () => {
    const u = await registerUser(t);
    const v = await registerUser(t);
    await deposit(t, admin, u.id, 'USDT', '10');
    const body = { toUserId: v.id, asset: 'USDT', amount: '2.5' };
    const first = await transfer(t, u, body, 'pay-1').expect(201);
    const replay = await transfer(t, u, { amount: '2.5', asset: 'USDT', toUserId: v.id }, 'pay-1').expect(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect((await balanceOf(t, u, 'USDT')).total).toBe('7.500000');
    const other = await transfer(t, u, { ...body, amount: '3' }, 'pay-1').expect(409);
    expect(other.body.message).toMatch(/different request body/);
    // Concurrent retries with one key: exactly one movement.
    const burst = await Promise.all(Array.from({ length: 8 }, () => transfer(t, u, body, 'pay-2')));
    expect(burst.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(1);
    expect(burst.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    expect((await balanceOf(t, u, 'USDT')).total).toBe('5.000000');
    // A refusal is the result too: replaying it gives the same 422.
    await transfer(t, u, { ...body, amount: '100' }, 'pay-3').expect(422);
    const again = await transfer(t, u, { ...body, amount: '100' }, 'pay-3').expect(422);
    expect(again.headers['idempotent-replayed']).toBe('true');
    await transfer(t, u, body, 'bad key with spaces').expect(400);
  });

  it('finds a recipient by username (any case, optional @): id and username only', async () => {
    const me = await registerUser(t);
    const them = await registerUser(t);
    const find = (name: string, token: string | null = me.token) => {
      const r = http(t).get(`/api/users/by-username/${encodeURIComponent(name)}`);
      return token ? r.set('authorization', `Bearer ${token}`) : r;
    };
    expect((await find(them.username).expect(200)).body).toEqual({ id: them.id, username: them.username });
    expect((await find(`@${them.username.toUpperCase()}`).expect(200)).body).toEqual({ id: them.id, username: them.username });
    expect((await find('nobody_here_123').expect(404)).body.message).toBe('No user named nobody_here_123');
    expect((await find('a b').expect(400)).body.message).toMatch(/username must be 3-32/);
    expect((await find('x'.repeat(33)).expect(400)).body.message).toMatch(/username must be 3-32/);
    await find(them.username, null).expect(401);
  });

  it('serves wallets only to their owner or an admin', async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    for (const path of ['balance', 'transactions', 'addresses']) {
      await http(t).get(`/api/wallet/${alice.id}/${path}`).set('authorization', `Bearer ${bob.token}`).expect(403);
      await http(t).get(`/api/wallet/${alice.id}/${path}`).expect(401);
      await http(t).get(`/api/wallet/${alice.id}/${path}`).set('authorization', `Bearer ${admin.token}`).expect(200);
    }
    await transfer(t, { ...alice, token: bob.token }, { toUserId: bob.id, asset: 'USD', amount: '1' }).expect(403);
    await transfer(t, { ...alice, token: admin.token }, { toUserId: bob.id, asset: 'USD', amount: '1' }).expect(403);
    const q = await gql(t, 'query($u: ID) { walletBalance(userId: $u) { userId } }', { u: alice.id }, bob.token);
    expect(q.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('lets exactly 10 of 30 concurrent transfers of 1 from a balance of 10 succeed', async () => {
    const u = await registerUser(t);
    const v = await registerUser(t);
    await deposit(t, admin, u.id, 'USD', '10');
    const results = await Promise.all(Array.from({ length: 30 }, () => transfer(t, u, { toUserId: v.id, asset: 'USD', amount: '1' })));
    const codes = results.map((r) => r.status);
    expect(codes.filter((c) => c === 201)).toHaveLength(10);
    expect(codes.filter((c) => c === 422)).toHaveLength(20);
    expect((await balanceOf(t, u, 'USD')).total).toBe('0.00');
    expect((await balanceOf(t, v, 'USD')).total).toBe('10.00');
  });

  it('keeps every invariant through a random storm of concurrent transfers', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => registerUser(t)));
    for (const u of users) await deposit(t, admin, u.id, 'BTC', '1');
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const jobs = Array.from({ length: 400 }, () => {
      const from = users[Math.floor(rnd() * users.length)];
      let to = users[Math.floor(rnd() * users.length)];
      if (to.id === from.id) to = users[(users.indexOf(from) + 1) % users.length];
      const amount = (0.05 + rnd() * 0.3).toFixed(8);
      return () => transfer(t, from, { toUserId: to.id, asset: 'BTC', amount });
    });
    const codes: number[] = [];
    // 16 in flight at a time.
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++];
          codes.push((await job()).status);
        }
      }),
    );
    expect(codes.every((c) => c === 201 || c === 422)).toBe(true);
    expect(codes.filter((c) => c === 201).length).toBeGreaterThan(100);
    const totals = await Promise.all(users.map((u) => balanceOf(t, u, 'BTC')));
    const sum = totals.reduce((s, b) => s + BigInt(b.total.replace('.', '')), 0n);
    expect(sum).toBe(6n * 100_000_000n);
    expect(totals.every((b) => !b.total.startsWith('-'))).toBe(true);
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('pages history with opaque cursors, without gaps or repeats', async () => {
    const u = await registerUser(t);
    for (let i = 1; i <= 7; i++) await deposit(t, admin, u.id, 'USD', `${i}.00`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/wallet/${u.id}/transactions?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page: any = await http(t).get(url).set('authorization', `Bearer ${u.token}`).expect(200);
      seen.push(...page.body.items.map((i: any) => i.amount));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['7.00', '6.00', '5.00', '4.00', '3.00', '2.00', '1.00']);
    const btc = await http(t).get(`/api/wallet/${u.id}/transactions?asset=BTC`).set('authorization', `Bearer ${u.token}`).expect(200);
    expect(btc.body.items).toEqual([]);
    await http(t).get(`/api/wallet/${u.id}/transactions?limit=500`).set('authorization', `Bearer ${u.token}`).expect(400);
    await http(t).get(`/api/wallet/${u.id}/transactions?cursor=garbage`).set('authorization', `Bearer ${u.token}`).expect(400);
    await http(t).get(`/api/wallet/${u.id}/transactions?asset=XRP`).set('authorization', `Bearer ${u.token}`).expect(400);
  });

  it('gives each user stable deposit addresses (bech32 BTC, checksummed ETH, USDT on Ethereum)', async () => {
    const u = await registerUser(t);
    const v = await registerUser(t);
    const a1 = (await http(t).get(`/api/wallet/${u.id}/addresses`).set('authorization', `Bearer ${u.token}`).expect(200)).body;
    const a2 = (await http(t).get(`/api/wallet/${u.id}/addresses`).set('authorization', `Bearer ${u.token}`).expect(200)).body;
    const b = (await http(t).get(`/api/wallet/${v.id}/addresses`).set('authorization', `Bearer ${v.token}`).expect(200)).body;
    expect(a1).toEqual(a2);
    const btc = a1.find((x: any) => x.asset === 'BTC');
    const eth = a1.find((x: any) => x.asset === 'ETH');
    const usdt = a1.find((x: any) => x.asset === 'USDT');
    expect(btc).toMatchObject({ network: 'bitcoin', address: expect.stringMatching(/^bc1q[02-9ac-hj-np-z]{38}$/) });
    expect(eth).toMatchObject({ network: 'ethereum', address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/) });
    expect(usdt.address).toBe(eth.address);
    expect(b.find((x: any) => x.asset === 'BTC').address).not.toBe(btc.address);
  });

  it('announces after commit: balance_update and transaction_complete to both parties, on sockets and GraphQL', async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    await deposit(t, admin, alice.id, 'ETH', '1');
    const aSock = await connectSocket(t, alice.token);
    const bSock = await connectSocket(t, bob.token);
    const bobGql = gqlWs(t, bob.token);
    const balSub = subscribe(bobGql, 'subscription { balanceUpdated { userId balances { asset available total } } }');
    const txSub = subscribe(bobGql, 'subscription { transactionCompleted { transactionId details { type amount fromUserId toUserId } } }');
    await waitForGqlSubscriber(t, `balance:${bob.id}`);
    await waitForGqlSubscriber(t, `transaction:${bob.id}`);

    const aBal = nextEvent(aSock, 'balance_update', (p: any) => p.balances.find((b: any) => b.asset === 'ETH').total === '0.750000000000000000');
    const bBal = nextEvent(bSock, 'balance_update');
    const aTx = nextEvent(aSock, 'transaction_complete');
    const bTx = nextEvent(bSock, 'transaction_complete');
    const res = await transfer(t, alice, { toUserId: bob.id, asset: 'ETH', amount: '0.25' }).expect(201);

    const bb = await bBal;
    expect(bb.userId).toBe(bob.id);
    expect(bb.balances.find((b: any) => b.asset === 'ETH')).toEqual({ asset: 'ETH', available: '0.250000000000000000', held: '0.000000000000000000', total: '0.250000000000000000' });
    await aBal;
    for (const ev of [await aTx, await bTx]) {
      expect(ev).toEqual({
        transactionId: res.body.id,
        details: expect.objectContaining({ type: 'transfer', asset: 'ETH', amount: '0.250000000000000000', fromUserId: alice.id, toUserId: bob.id }),
      });
    }
    const g1: any = await balSub.next();
    expect(g1.data.balanceUpdated.balances.find((b: any) => b.asset === 'ETH').total).toBe('0.250000000000000000');
    const g2: any = await txSub.next();
    expect(g2.data.transactionCompleted).toMatchObject({ transactionId: res.body.id, details: { type: 'transfer', fromUserId: alice.id, toUserId: bob.id } });
  });

  it('serves wallet reads and transfers over GraphQL with the same rules', async () => {
    const u = await registerUser(t);
    const v = await registerUser(t);
    await deposit(t, admin, u.id, 'USD', '20');
    const m = await gql(
      t,
      'mutation($i: TransferDto!, $k: String) { walletTransfer(input: $i, idempotencyKey: $k) { id amount fee toUserId } }',
      { i: { toUserId: v.id, asset: 'USD', amount: '5.00' }, k: 'g-1' },
      u.token,
    ).expect(200);
    expect(m.body.data.walletTransfer).toMatchObject({ amount: '5.00', fee: '0.00', toUserId: v.id });
    const replay = await gql(t, 'mutation($i: TransferDto!, $k: String) { walletTransfer(input: $i, idempotencyKey: $k) { id } }', {
      i: { toUserId: v.id, asset: 'USD', amount: '5.00' },
      k: 'g-1',
    }, u.token);
    expect(replay.body.data.walletTransfer.id).toBe(m.body.data.walletTransfer.id);
    const q = await gql(t, '{ walletBalance { balances { asset total } } walletTransactions(limit: 1) { items { type amount } nextCursor } }', {}, u.token);
    expect(q.body.data.walletBalance.balances.find((b: any) => b.asset === 'USD').total).toBe('15.00');
    expect(q.body.data.walletTransactions.items).toEqual([{ type: 'transfer', amount: '-5.00' }]);
    expect(q.body.data.walletTransactions.nextCursor).not.toBeNull();
    const poor = await gql(t, 'mutation($i: TransferDto!) { walletTransfer(input: $i) { id } }', { i: { toUserId: v.id, asset: 'USD', amount: '500' } }, u.token);
    expect(poor.body.errors[0].extensions).toMatchObject({ code: 'INSUFFICIENT_FUNDS', statusCode: 422 });
  });
});
