import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, connectSocket, eventually, gqlWs, http, inboxTopped, loginAdmin, nextEvent, registerUser, subscribe, TestUser, waitForGqlSubscriber } from './harness/clients';
import { balanceOf, deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { JobsService } from '../src/core/queue/jobs.service';

/**
 * The windows, with short durations: the payment window cancels and refunds, the release
 * window opens a dispute; a cancel racing the timeout has one winner; a lost or early job is
 * made good by the database sweep. (Restarts: p2p-restart.e2e-spec.ts.)
 */
describe('P2P escrow windows', () => {
  let t: TestApp;
  let admin: TestUser;
  let ds: DataSource;
  let jobs: JobsService;

  beforeAll(async () => {
    t = await startTestApp({ env: { P2P_MIN_PAYMENT_WINDOW_SECONDS: '1', P2P_RELEASE_WINDOW_SECONDS: '2', P2P_FEE_BPS: '0' } });
    admin = await loginAdmin(t);
    ds = t.app.get(getDataSourceToken());
    jobs = t.app.get(JobsService);
  });
  afterAll(async () => {
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
  });

  const auth = (u: TestUser) => `Bearer ${u.token}`;
  const get = (u: TestUser, path: string) => http(t).get(path).set('authorization', auth(u));
  const post = (u: TestUser, path: string, body: object = {}) => http(t).post(path).set('authorization', auth(u)).send(body);
  const E = '/api/crypto/p2p/escrow';
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function pair(btc = '1') {
    const seller = await registerUser(t);
    const buyer = await registerUser(t);
    await deposit(t, admin, seller.id, 'BTC', btc);
    return { seller, buyer };
  }
  async function escrow(seller: TestUser, buyer: TestUser, windowSeconds: number, amount = '0.1') {
    return (
      await post(seller, E, { buyerId: buyer.id, asset: 'BTC', amount, fiatCurrency: 'USD', fiatAmount: '6500.00', paymentMethod: 'SEPA', paymentWindowSeconds: windowSeconds }).expect(201)
    ).body;
  }

  it('cancels when the payment window ends and gives the seller the crypto back', async () => {
    const { seller, buyer } = await pair();
    const sSock = await connectSocket(t, seller.token);
    const bSock = await connectSocket(t, buyer.token);
    const e = await escrow(seller, buyer, 1);
    expect((await balanceOf(t, seller, 'BTC')).held).toBe('0.10000000');
    const sub = subscribe(gqlWs(t, seller.token), 'subscription($id: ID!) { escrowUpdated(escrowId: $id) { id status cancelReason } }', { id: e.id });
    await waitForGqlSubscriber(t, `p2p:escrow:${e.id}`);
    const [sEv, bEv] = await Promise.all([
      nextEvent(sSock, 'escrow_update', (p: any) => p.escrow.id === e.id && p.escrow.status === 'cancelled', 10_000),
      nextEvent(bSock, 'escrow_update', (p: any) => p.escrow.id === e.id && p.escrow.status === 'cancelled', 10_000),
    ]);
    expect(sEv.escrow).toMatchObject({ status: 'cancelled', cancelReason: 'payment_timeout' });
    expect(bEv.escrow.cancelledAt).toBe(sEv.escrow.cancelledAt);
    expect(Date.parse(sEv.escrow.cancelledAt)).toBeGreaterThanOrEqual(Date.parse(e.paymentDeadline));
    expect(((await sub.next(10_000)) as any).data.escrowUpdated).toEqual({ id: e.id, status: 'cancelled', cancelReason: 'payment_timeout' });
    expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '1.00000000', held: '0.00000000', total: '1.00000000' });
    for (const u of [seller, buyer]) {
      const n = (await inboxTopped(t, u, 'Trade cancelled: the payment window ended'))[0];
      expect(n).toMatchObject({ type: 'escrow', title: 'Trade cancelled: the payment window ended', data: { escrowId: e.id, status: 'cancelled' } });
    }
    const events = (await get(buyer, `${E}/${e.id}/events`).expect(200)).body;
    expect(events.map((x: any) => [x.toStatus, x.actorRole, x.actorId])).toEqual([
      ['awaiting_payment', 'seller', seller.id],
      ['cancelled', 'system', null],
    ]);
    // Too late to pay now.
    await post(buyer, `${E}/${e.id}/confirm`).expect(409);
    sub.dispose();
  });

  it('opens a dispute when the seller lets the release window end, and the admin decides', async () => {
    const { seller, buyer } = await pair();
    const e = await escrow(seller, buyer, 600);
    const sSock = await connectSocket(t, seller.token);
    const paid = (await post(buyer, `${E}/${e.id}/confirm`).expect(200)).body;
    expect(Date.parse(paid.releaseDeadline) - Date.parse(paid.paidAt)).toBe(2000);
    // The payment window's job is gone with the window; the release window has its own.
    expect(await jobs.queue('p2p').getJob(`p2p-pay-${e.id}`)).toBeUndefined();
    expect(await jobs.queue('p2p').getJob(`p2p-release-${e.id}`)).toBeTruthy();
    const ev = await nextEvent(sSock, 'escrow_update', (p: any) => p.escrow.id === e.id && p.escrow.status === 'disputed', 10_000);
    expect(ev.escrow.dispute).toMatchObject({
      openedBy: null,
      openedByRole: 'system',
      reason: 'The seller did not release within the release window',
      sealHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(Date.parse(ev.escrow.disputedAt)).toBeGreaterThanOrEqual(Date.parse(paid.releaseDeadline));
    // Frozen for the parties, still held.
    await post(seller, `${E}/${e.id}/release`).expect(409);
    expect((await balanceOf(t, seller, 'BTC')).held).toBe('0.10000000');
    const r = await post(admin, `/api/admin/p2p/escrow/${e.id}/resolve`, { outcome: 'release', note: 'Payment confirmed by the bank' }).expect(200);
    expect(r.body).toMatchObject({ status: 'released', dispute: { outcome: 'release' } });
    expect((await balanceOf(t, buyer, 'BTC')).total).toBe('0.10000000');
    expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '0.90000000', held: '0.00000000', total: '0.90000000' });
  });

  it('gives a cancel racing the payment timeout exactly one outcome', async () => {
    const { seller, buyer } = await pair('2');
    const escrows: any[] = [];
    for (let i = 0; i < 8; i++) escrows.push(await escrow(seller, buyer, 1));
    // Fire the cancels around the deadline, staggered across it.
    const deadline = Math.max(...escrows.map((e) => Date.parse(e.paymentDeadline)));
    await sleep(Math.max(0, deadline - Date.now() - 120));
    const answers = await Promise.all(
      escrows.map(async (e, i) => {
        await sleep(i * 30);
        return (await post(buyer, `${E}/${e.id}/cancel`)).status;
      }),
    );
    expect(answers.every((s) => s === 200 || s === 409)).toBe(true);
    const finals = await eventually(async () => {
      const all = await Promise.all(escrows.map(async (e) => (await get(buyer, `${E}/${e.id}`).expect(200)).body));
      return all.every((x) => x.status === 'cancelled') ? all : null;
    }, { timeoutMs: 10_000 });
    finals!.forEach((f: any, i: number) => expect(f.cancelReason).toBe(answers[i] === 200 ? 'buyer_cancelled' : 'payment_timeout'));
    // One terminal event per escrow, the hold voided once, the seller whole.
    const rows = await ds.query(
      `SELECT escrow_id, count(*)::int AS n FROM p2p_escrow_events WHERE escrow_id = ANY($1) AND to_status = 'cancelled' GROUP BY escrow_id`,
      [escrows.map((e) => e.id)],
    );
    expect(rows).toHaveLength(8);
    expect(rows.every((r: any) => r.n === 1)).toBe(true);
    expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '2.00000000', held: '0.00000000', total: '2.00000000' });
  });

  it('makes good a lost job from the database (the sweep) and an early job waits for the deadline', async () => {
    const { seller, buyer } = await pair();
    const q = jobs.queue('p2p');

    // Lost: the delayed job disappears (e.g. Redis lost it); nothing fires.
    const lost = await escrow(seller, buyer, 1);
    expect(await q.getJob(`p2p-pay-${lost.id}`)).toBeTruthy();
    await q.remove(`p2p-pay-${lost.id}`);
    await sleep(Date.parse(lost.paymentDeadline) - Date.now() + 500);
    expect((await get(seller, `${E}/${lost.id}`).expect(200)).body.status).toBe('awaiting_payment');
    // The periodic sweep (a job) finds it in the database.
    await jobs.add('p2p', 'sweep', {});
    const swept = await eventually(async () => {
      const x = (await get(seller, `${E}/${lost.id}`).expect(200)).body;
      return x.status === 'cancelled' ? x : null;
    }, { timeoutMs: 10_000 });
    expect(swept.cancelReason).toBe('payment_timeout');

    // Early: a window job that fires before the deadline does nothing yet, then acts on time.
    const early = await escrow(seller, buyer, 3);
    await q.remove(`p2p-pay-${early.id}`);
    await jobs.add('p2p', 'payment-window', { escrowId: early.id }, { jobId: `p2p-pay-early-${early.id}` });
    await sleep(1000);
    expect((await get(seller, `${E}/${early.id}`).expect(200)).body.status).toBe('awaiting_payment');
    const done = await eventually(async () => {
      const x = (await get(seller, `${E}/${early.id}`).expect(200)).body;
      return x.status === 'cancelled' ? x : null;
    }, { timeoutMs: 10_000 });
    expect(Date.parse(done.cancelledAt)).toBeGreaterThanOrEqual(Date.parse(early.paymentDeadline));
    expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '1.00000000', held: '0.00000000', total: '1.00000000' });
  });
});
