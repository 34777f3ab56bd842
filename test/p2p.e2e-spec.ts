import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, collect, connectSocket, gql, gqlWs, http, inboxTopped, loginAdmin, nextEvent, registerUser, subscribe, TestUser, waitForGqlSubscriber } from './harness/clients';
import { balanceOf, deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';

/**
 * P2P escrow end to end: offers, escrows held through the ledger, every transition and every
 * refused one, strangers, races, idempotent replays, disputes and arbitration, live updates.
 * P2P_FEE_BPS=100 (1 %, paid by the seller on top of the amount, on release only).
 */
describe('P2P escrow', () => {
  let t: TestApp;
  let admin: TestUser;
  let ds: DataSource;

  beforeAll(async () => {
    t = await startTestApp({ env: { P2P_FEE_BPS: '100', P2P_MIN_PAYMENT_WINDOW_SECONDS: '60', P2P_RELEASE_WINDOW_SECONDS: '1800' } });
    admin = await loginAdmin(t);
    ds = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    const results = await verifyLedger(ds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
  });

  const auth = (u: TestUser) => `Bearer ${u.token}`;
  const get = (u: TestUser, path: string) => http(t).get(path).set('authorization', auth(u));
  const post = (u: TestUser, path: string, body: object = {}, key?: string) => {
    const r = http(t).post(path).set('authorization', auth(u));
    if (key) r.set('idempotency-key', key);
    return r.send(body);
  };
  const E = '/api/crypto/p2p/escrow';
  const O = '/api/crypto/p2p/offers';
  const act = (u: TestUser, id: string, action: 'confirm' | 'release' | 'cancel', key?: string) => post(u, `${E}/${id}/${action}`, {}, key);
  const dispute = (u: TestUser, id: string, body: object = { reason: 'paid but not released' }) => post(u, `${E}/${id}/dispute`, body);
  const resolve = (u: TestUser, id: string, outcome: 'release' | 'refund', note = 'checked the bank statement') =>
    post(u, `/api/admin/p2p/escrow/${id}/resolve`, { outcome, note });
  const feesBtc = async () => {
    const rows = await ds.query(`SELECT posted::text AS p FROM ledger_accounts WHERE account_key = 'system:fees:BTC'`);
    return rows.length ? BigInt(rows[0].p) : 0n;
  };
  const heldOf = async (escrowId: string) =>
    (await ds.query(`SELECT h.status, h.remaining::text AS remaining FROM ledger_holds h JOIN p2p_escrows e ON e.hold_id = h.id WHERE e.id = $1`, [escrowId]))[0];

  /** A seller with `btc` BTC and a direct escrow to `buyer`. */
  async function directEscrow(seller: TestUser, buyer: TestUser, amount = '0.01000000', extra: object = {}) {
    const res = await post(seller, E, {
      buyerId: buyer.id,
      asset: 'BTC',
      amount,
      fiatCurrency: 'USD',
      fiatAmount: '650.00',
      paymentMethod: 'SEPA',
      paymentWindowSeconds: 900,
      ...extra,
    }).expect(201);
    return res.body;
  }

  async function funded(btc = '1') {
    const u = await registerUser(t);
    await deposit(t, admin, u.id, 'BTC', btc);
    return u;
  }

  describe('offers', () => {
    it('posts offers, validates them, and lists the market with filters, best price first', async () => {
      const a = await registerUser(t);
      const b = await registerUser(t);
      const asset = 'SOFT'; // a market of its own, untouched by other tests
      const base = { side: 'sell', asset, fiatCurrency: 'EUR', price: '0.5', minAmount: '10', maxAmount: '1000', paymentMethods: ['SEPA', 'Revolut'], paymentWindowSeconds: 900 };
      const o1 = (await post(a, O, base).expect(201)).body;
      expect(o1).toMatchObject({
        id: expect.any(String),
        userId: a.id,
        username: a.username,
        side: 'sell',
        asset,
        fiatCurrency: 'EUR',
        price: '0.50',
        minAmount: '10.00000000',
        maxAmount: '1000.00000000',
        paymentMethods: ['SEPA', 'Revolut'],
        paymentWindowSeconds: 900,
        status: 'active',
        reputation: { completedTrades: 0, failedTrades: 0, completionRate: null },
      });
      const o2 = (await post(b, O, { ...base, price: '0.45', paymentMethods: ['Wise'], minAmount: '100', maxAmount: '200' }).expect(201)).body;
      const o3 = (await post(b, O, { ...base, price: '0.55' }).expect(201)).body;
      const buy = (await post(a, O, { ...base, side: 'buy', price: '0.40' }).expect(201)).body;

      // Validation: 400 naming the field.
      const bad: [object, RegExp][] = [
        [{ side: 'hold' }, /side/],
        [{ asset: 'DOGE' }, /asset/],
        [{ fiatCurrency: 'usd' }, /fiatCurrency/],
        [{ price: '0' }, /price/],
        [{ price: 1.5 }, /price/],
        [{ price: '1.123456789' }, /price has too many decimal places/],
        [{ minAmount: '0.000000001' }, /minAmount/],
        [{ minAmount: '100', maxAmount: '10' }, /maxAmount must not be less than minAmount/],
        [{ paymentMethods: [] }, /paymentMethods/],
        [{ paymentWindowSeconds: 59 }, /paymentWindowSeconds must be an integer between 60 and 86400/],
        [{ paymentWindowSeconds: 86401 }, /paymentWindowSeconds/],
        [{ extra: true }, /extra/],
      ];
      for (const [patch, msg] of bad) {
        const r = await post(a, O, { ...base, ...patch }).expect(400);
        expect(JSON.stringify(r.body.message)).toMatch(msg);
      }

      const list = async (q: string) => (await get(b, `${O}?${q}`).expect(200)).body;
      // Sell offers: cheapest first. Buy offers: highest first.
      expect((await list(`asset=${asset}&side=sell`)).items.map((o: any) => o.id)).toEqual([o2.id, o1.id, o3.id]);
      expect((await list(`asset=${asset}&side=buy`)).items.map((o: any) => o.id)).toEqual([buy.id]);
      expect((await list(`asset=${asset}&side=sell&paymentMethod=revolut`)).items.map((o: any) => o.id)).toEqual([o1.id, o3.id]);
      expect((await list(`asset=${asset}&side=sell&amount=150`)).items.map((o: any) => o.id)).toEqual([o2.id, o1.id, o3.id]);
      expect((await list(`asset=${asset}&side=sell&amount=500`)).items.map((o: any) => o.id)).toEqual([o1.id, o3.id]);
      expect((await list(`asset=${asset}&side=sell&maxPrice=0.5`)).items.map((o: any) => o.id)).toEqual([o2.id, o1.id]);
      expect((await list(`asset=${asset}&side=sell&minPrice=0.5&fiatCurrency=EUR`)).items.map((o: any) => o.id)).toEqual([o1.id, o3.id]);
      expect((await list(`asset=${asset}&side=sell&fiatCurrency=USD`)).items).toEqual([]);
      expect((await list(`userId=${a.id}`)).items.map((o: any) => o.id).sort()).toEqual([o1.id, buy.id].sort());
      await get(b, `${O}?amount=5`).expect(400);
      await get(b, `${O}?limit=0`).expect(400);
      await get(b, `${O}?cursor=garbage`).expect(400);

      // Cursor pages: no gap, no repeat.
      const p1 = await list(`asset=${asset}&side=sell&limit=2`);
      expect(p1.items.map((o: any) => o.id)).toEqual([o2.id, o1.id]);
      const p2 = await list(`asset=${asset}&side=sell&limit=2&cursor=${p1.nextCursor}`);
      expect(p2.items.map((o: any) => o.id)).toEqual([o3.id]);
      expect(p2.nextCursor).toBeNull();

      // Only the advertiser changes an offer; a paused offer leaves the market.
      await http(t).patch(`${O}/${o1.id}`).set('authorization', auth(b)).send({ status: 'paused' }).expect(403);
      const paused = await http(t).patch(`${O}/${o1.id}`).set('authorization', auth(a)).send({ status: 'paused', price: '0.48' }).expect(200);
      expect(paused.body).toMatchObject({ status: 'paused', price: '0.48' });
      expect((await list(`asset=${asset}&side=sell`)).items.map((o: any) => o.id)).toEqual([o2.id, o3.id]);
      expect((await get(a, `${O}?status=paused`).expect(200)).body.items.map((o: any) => o.id)).toEqual([o1.id]);
      await get(b, `${O}?status=paused&userId=${a.id}`).expect(403);
      await post(b, `${O}/${o1.id}/accept`, { amount: '20', paymentMethod: 'SEPA' }).expect(409);
      await post(b, `${O}/${o1.id}/accept`, { amount: '20' }).expect(409); // unavailable first, whatever the input
      await http(t).patch(`${O}/${o1.id}`).set('authorization', auth(a)).send({ status: 'closed' }).expect(200);
      await http(t).patch(`${O}/${o1.id}`).set('authorization', auth(a)).send({ status: 'active' }).expect(409);
      await get(b, `${O}/00000000-0000-4000-8000-000000000000`).expect(404);
      await get(b, `${O}/not-a-uuid`).expect(400);
    });

    it('announces offers live on offerUpdated: posted, edited, leaving the market; edits of a paused offer stay private', async () => {
      const a = await registerUser(t);
      const viewer = await registerUser(t);
      const ws = gqlWs(t, viewer.token);
      const all = subscribe(ws, `subscription { offerUpdated { id userId side asset price status } }`);
      const eth = subscribe(ws, `subscription { offerUpdated(asset: "ETH") { id asset } }`);
      await waitForGqlSubscriber(t, 'p2p:offers');
      const body = { side: 'sell', asset: 'USDT', fiatCurrency: 'EUR', price: '0.93', minAmount: '10', maxAmount: '500', paymentMethods: ['SEPA'], paymentWindowSeconds: 900 };
      const o = (await post(a, O, body).expect(201)).body;
      expect(((await all.next()) as any).data.offerUpdated).toEqual({ id: o.id, userId: a.id, side: 'sell', asset: 'USDT', price: '0.93', status: 'active' });
      await http(t).patch(`${O}/${o.id}`).set('authorization', auth(a)).send({ price: '0.94' }).expect(200);
      expect(((await all.next()) as any).data.offerUpdated).toMatchObject({ id: o.id, price: '0.94', status: 'active' });
      await http(t).patch(`${O}/${o.id}`).set('authorization', auth(a)).send({ status: 'paused' }).expect(200);
      expect(((await all.next()) as any).data.offerUpdated).toMatchObject({ id: o.id, status: 'paused' });
      // Paused: not public, so its edits are not announced; coming back is.
      await http(t).patch(`${O}/${o.id}`).set('authorization', auth(a)).send({ price: '0.99' }).expect(200);
      await http(t).patch(`${O}/${o.id}`).set('authorization', auth(a)).send({ status: 'active' }).expect(200);
      expect(((await all.next()) as any).data.offerUpdated).toMatchObject({ id: o.id, price: '0.99', status: 'active' });
      // A PATCH that changes nothing announces nothing; the asset filter kept the USDT offer from the ETH feed.
      await http(t).patch(`${O}/${o.id}`).set('authorization', auth(a)).send({}).expect(200);
      await expect(all.next(300)).rejects.toThrow(/Timed out/);
      const e = (await post(a, O, { ...body, asset: 'ETH', price: '3000', minAmount: '0.01', maxAmount: '1' }).expect(201)).body;
      expect(((await eth.next()) as any).data.offerUpdated).toEqual({ id: e.id, asset: 'ETH' });
      expect(((await all.next()) as any).data.offerUpdated).toMatchObject({ id: e.id, asset: 'ETH' });
      // An unknown asset is refused, not silently empty.
      const bad = (await subscribe(ws, `subscription { offerUpdated(asset: "NOPE") { id } }`).failure()) as any;
      expect(bad[0].extensions.code).toBe('BAD_REQUEST');
      expect(bad[0].message).toMatch(/asset must be one of/);
      // Without a token there is no subscription at all: the connection is closed as unauthorised.
      const anon = gqlWs(t);
      expect(await subscribe(anon, `subscription { offerUpdated { id } }`).failure()).toMatchObject({ code: 4401 });
    });

    it('accepts an offer within its limits: amount in the asset, fiatAmount = amount × price rounded half-up to the cent', async () => {
      const seller = await funded('1');
      const buyer = await registerUser(t);
      const offer = (
        await post(seller, O, {
          side: 'sell',
          asset: 'BTC',
          fiatCurrency: 'USD',
          price: '65000',
          minAmount: '0.0001',
          maxAmount: '0.5',
          paymentMethods: ['SEPA', 'Revolut'],
          paymentWindowSeconds: 900,
        }).expect(201)
      ).body;

      await post(seller, `${O}/${offer.id}/accept`, { amount: '0.01', paymentMethod: 'SEPA' }).expect(422); // own offer
      expect((await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.00009', paymentMethod: 'SEPA' }).expect(422)).body.message).toMatch(
        /amount must be between 0.00010000 and 0.50000000 BTC/,
      );
      await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.6', paymentMethod: 'SEPA' }).expect(422);
      await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.000000001', paymentMethod: 'SEPA' }).expect(400);
      expect((await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.01' }).expect(400)).body.message).toMatch(/paymentMethod is required/);
      await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.01', paymentMethod: 'PayPal' }).expect(400);
      await post(buyer, `${O}/00000000-0000-4000-8000-000000000000/accept`, { amount: '0.01', paymentMethod: 'SEPA' }).expect(404);

      // 0.00012347 BTC × 65,000 = 8.02555 → 8.03
      const e = (await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.00012347', paymentMethod: 'revolut' }).expect(201)).body;
      expect(e).toMatchObject({
        offerId: offer.id,
        sellerId: seller.id,
        buyerId: buyer.id,
        asset: 'BTC',
        amount: '0.00012347',
        fee: '0.00000124', // ceil(12347 × 1 %) sat: fees round up (issue 11)
        price: '65000.00',
        fiatCurrency: 'USD',
        fiatAmount: '8.03',
        paymentMethod: 'Revolut',
        paymentWindowSeconds: 900,
        status: 'awaiting_payment',
      });
      // 0.00012345 × 65,000 = 8.02425 → 8.02
      const e2 = (await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.00012345', paymentMethod: 'SEPA' }).expect(201)).body;
      expect(e2.fiatAmount).toBe('8.02');
      // Held: both amounts plus their fees, each rounded up (124 + 124 sat).
      expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '0.99975060', held: '0.00024940', total: '1.00000000' });
    });

    it('takes a buy offer: the taker is the seller and their funds are held', async () => {
      const advertiser = await registerUser(t);
      const taker = await funded('0.5');
      const offer = (
        await post(advertiser, O, { side: 'buy', asset: 'BTC', fiatCurrency: 'EUR', price: '60000.5', minAmount: '0.01', maxAmount: '0.1', paymentMethods: ['SEPA'], paymentWindowSeconds: 600 }).expect(201)
      ).body;
      const e = (await post(taker, `${O}/${offer.id}/accept`, { amount: '0.1' }).expect(201)).body;
      expect(e).toMatchObject({ sellerId: taker.id, buyerId: advertiser.id, amount: '0.10000000', fee: '0.00100000', fiatAmount: '6000.05', paymentMethod: 'SEPA', paymentWindowSeconds: 600 });
      expect(await balanceOf(t, taker, 'BTC')).toMatchObject({ available: '0.39900000', held: '0.10100000', total: '0.50000000' });
      // Only the buyer (the advertiser) may mark it paid.
      await act(taker, e.id, 'confirm').expect(403);
      await act(advertiser, e.id, 'confirm').expect(200);
      await act(taker, e.id, 'release').expect(200);
      expect((await balanceOf(t, advertiser, 'BTC')).total).toBe('0.10000000');
    });
  });

  it('runs the happy path with exact balances, live updates, notifications, chat and reputation', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const fees0 = await feesBtc();
    const offer = (
      await post(seller, O, { side: 'sell', asset: 'BTC', fiatCurrency: 'USD', price: '65000', minAmount: '0.001', maxAmount: '0.5', paymentMethods: ['SEPA'], paymentWindowSeconds: 900 }).expect(201)
    ).body;

    const sSock = await connectSocket(t, seller.token);
    const bSock = await connectSocket(t, buyer.token);
    const sCreated = nextEvent(sSock, 'escrow_update');
    const bCreated = nextEvent(bSock, 'escrow_update');

    const created = await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.01' }).expect(201);
    const e = created.body;
    expect(e).toMatchObject({
      id: expect.any(String),
      offerId: offer.id,
      sellerId: seller.id,
      buyerId: buyer.id,
      asset: 'BTC',
      amount: '0.01000000',
      fee: '0.00010000',
      fiatCurrency: 'USD',
      fiatAmount: '650.00',
      status: 'awaiting_payment',
      releaseDeadline: null,
      dispute: null,
      chatRoomId: expect.any(String),
    });
    expect(Date.parse(e.paymentDeadline) - Date.parse(e.createdAt)).toBe(900_000);
    expect((await sCreated).escrow).toEqual(e);
    expect((await bCreated).escrow).toEqual(e);
    // Held at creation: amount + fee, from the seller's available balance.
    expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '0.98990000', held: '0.01010000', total: '1.00000000' });
    expect(await heldOf(e.id)).toEqual({ status: 'pending', remaining: '1010000' });

    // The seller (the other party) was notified; both see the escrow; the trade chat is private to the two.
    const createdNotes = await inboxTopped(t, seller, 'New P2P trade');
    expect(createdNotes[0]).toMatchObject({ type: 'escrow', title: 'New P2P trade', data: { escrowId: e.id, status: 'awaiting_payment' } });
    expect((await get(seller, `${E}/${e.id}`).expect(200)).body).toEqual(e);
    expect((await get(buyer, `${E}/${e.id}`).expect(200)).body).toEqual(e);
    expect((await get(admin, `${E}/${e.id}`).expect(200)).body).toEqual(e);
    await post(buyer, `/api/chat/rooms/${e.chatRoomId}/messages`, { content: 'paying now' }).expect(201);
    const room = (await get(seller, `/api/chat/rooms/${e.chatRoomId}/users`).expect(200)).body;
    expect(room.map((m: any) => m.userId).sort()).toEqual([seller.id, buyer.id].sort());

    // GraphQL subscription of the parties.
    const sub = subscribe(gqlWs(t, buyer.token), 'subscription($id: ID!) { escrowUpdated(escrowId: $id) { id status amount fee fiatAmount releaseDeadline } }', { id: e.id });
    await waitForGqlSubscriber(t, `p2p:escrow:${e.id}`);

    const sPaid = nextEvent(sSock, 'escrow_update', (p: any) => p.escrow.status === 'paid');
    const paid = (await act(buyer, e.id, 'confirm').expect(200)).body;
    expect(paid).toMatchObject({ status: 'paid', paidAt: expect.any(String), releaseDeadline: expect.any(String) });
    expect(Date.parse(paid.releaseDeadline) - Date.parse(paid.paidAt)).toBe(1_800_000);
    expect((await sPaid).escrow.status).toBe('paid');
    expect((await sub.next()) as any).toEqual({ data: { escrowUpdated: { id: e.id, status: 'paid', amount: '0.01000000', fee: '0.00010000', fiatAmount: '650.00', releaseDeadline: paid.releaseDeadline } } });
    const sNotes = await inboxTopped(t, seller, 'The buyer marked the trade as paid');
    expect(sNotes[0]).toMatchObject({ type: 'escrow', title: 'The buyer marked the trade as paid', data: { escrowId: e.id, status: 'paid' } });
    // Still held while paid.
    expect((await balanceOf(t, seller, 'BTC')).held).toBe('0.01010000');

    const bReleased = nextEvent(bSock, 'escrow_update', (p: any) => p.escrow.status === 'released');
    const released = (await act(seller, e.id, 'release').expect(200)).body;
    expect(released).toMatchObject({ status: 'released', releasedAt: expect.any(String) });
    expect((await bReleased).escrow.status).toBe('released');
    expect(((await sub.next()) as any).data.escrowUpdated.status).toBe('released');

    // Exact balances: the buyer got the amount, the seller paid amount + fee, the fee account got the fee.
    expect(await balanceOf(t, buyer, 'BTC')).toEqual({ asset: 'BTC', available: '0.01000000', held: '0.00000000', total: '0.01000000' });
    expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '0.98990000', held: '0.00000000', total: '0.98990000' });
    expect((await feesBtc()) - fees0).toBe(10_000n);
    expect(await heldOf(e.id)).toEqual({ status: 'posted', remaining: '0' });
    const sHist = (await get(seller, `/api/wallet/${seller.id}/transactions?asset=BTC`).expect(200)).body.items;
    expect(sHist.slice(0, 2).map((i: any) => [i.type, i.amount, i.reference]).sort()).toEqual(
      [
        ['fee', '-0.00010000', e.id],
        ['p2p_release', '-0.01000000', e.id],
      ].sort(),
    );
    const bHist = (await get(buyer, `/api/wallet/${buyer.id}/transactions?asset=BTC`).expect(200)).body.items;
    expect(bHist.map((i: any) => [i.type, i.amount, i.counterpartyId])).toEqual([['p2p_release', '0.01000000', seller.id]]);
    expect((await inboxTopped(t, buyer, 'Crypto released'))[0]).toMatchObject({ title: 'Crypto released' });

    // Timeline and reputation.
    const events = (await get(buyer, `${E}/${e.id}/events`).expect(200)).body;
    expect(events.map((x: any) => [x.fromStatus, x.toStatus, x.actorRole, x.actorId])).toEqual([
      [null, 'awaiting_payment', 'buyer', buyer.id],
      ['awaiting_payment', 'paid', 'buyer', buyer.id],
      ['paid', 'released', 'seller', seller.id],
    ]);
    expect((await get(buyer, `${O}/${offer.id}`).expect(200)).body.reputation).toEqual({ completedTrades: 1, failedTrades: 0, completionRate: 1 });

    // Lists: mine, by role and status.
    expect((await get(buyer, `${E}?role=buyer&status=released`).expect(200)).body.items.map((x: any) => x.id)).toEqual([e.id]);
    expect((await get(buyer, `${E}?role=seller`).expect(200)).body.items).toEqual([]);
    sub.dispose();
  });

  it('refuses 422 when the seller cannot cover amount + fee, holding and creating nothing', async () => {
    const seller = await funded('0.01');
    const buyer = await registerUser(t);
    const r = await post(seller, E, { buyerId: buyer.id, asset: 'BTC', amount: '0.01', fiatCurrency: 'USD', fiatAmount: '650.00', paymentMethod: 'SEPA', paymentWindowSeconds: 900 }).expect(422);
    expect(r.body.message).toMatch(/Insufficient BTC/);
    expect(await balanceOf(t, seller, 'BTC')).toMatchObject({ available: '0.01000000', held: '0.00000000' });
    expect((await get(seller, E).expect(200)).body.items).toEqual([]);
    // 0.0099 + 1 % = 0.009999 fits.
    await post(seller, E, { buyerId: buyer.id, asset: 'BTC', amount: '0.0099', fiatCurrency: 'USD', fiatAmount: '640.00', paymentMethod: 'SEPA', paymentWindowSeconds: 900 }).expect(201);
    expect(await balanceOf(t, seller, 'BTC')).toMatchObject({ available: '0.00000100', held: '0.00999900' });
  });

  it('validates direct escrows', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const body = { buyerId: buyer.id, asset: 'BTC', amount: '0.01', fiatCurrency: 'USD', fiatAmount: '650.00', paymentMethod: 'SEPA', paymentWindowSeconds: 900 };
    const cases: [object, number, RegExp][] = [
      [{ buyerId: seller.id }, 400, /buyerId must be another user/],
      [{ buyerId: 'bob' }, 400, /buyerId/],
      [{ buyerId: '00000000-0000-4000-8000-000000000000' }, 404, /Buyer not found/],
      [{ paymentWindowSeconds: 30 }, 400, /paymentWindowSeconds must be an integer between 60 and 86400/],
      [{ fiatAmount: '650.001' }, 400, /fiatAmount/],
      [{ fiatAmount: 650 }, 400, /fiatAmount/],
      [{ amount: '-1' }, 400, /amount/],
      [{ asset: 'DOGE' }, 400, /asset/],
      [{ paymentMethod: '' }, 400, /paymentMethod/],
    ];
    for (const [patch, status, msg] of cases) {
      const r = await post(seller, E, { ...body, ...patch }).expect(status);
      expect(JSON.stringify(r.body.message)).toMatch(msg);
    }
    expect(await balanceOf(t, seller, 'BTC')).toMatchObject({ held: '0.00000000' });
  });

  it('lets the buyer cancel before paying: the hold is voided and the seller is whole again', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const e = await directEscrow(seller, buyer);
    expect((await balanceOf(t, seller, 'BTC')).held).toBe('0.01010000');
    await act(seller, e.id, 'cancel').expect(403); // the seller cannot cancel
    const sSock = await connectSocket(t, seller.token);
    const update = nextEvent(sSock, 'escrow_update');
    const c = (await act(buyer, e.id, 'cancel').expect(200)).body;
    expect(c).toMatchObject({ status: 'cancelled', cancelReason: 'buyer_cancelled', cancelledAt: expect.any(String) });
    expect((await update).escrow.status).toBe('cancelled');
    expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '1.00000000', held: '0.00000000', total: '1.00000000' });
    expect(await heldOf(e.id)).toEqual({ status: 'voided', remaining: '0' });
    expect((await inboxTopped(t, seller, 'Trade cancelled by the buyer'))[0]).toMatchObject({ type: 'escrow', data: { escrowId: e.id } });
    // Terminal: nothing more happens.
    await act(buyer, e.id, 'cancel').expect(409);
    await act(buyer, e.id, 'confirm').expect(409);
    await act(seller, e.id, 'release').expect(409);
    await dispute(buyer, e.id).expect(409);
    // The buyer's cancellation counts against the buyer.
    const stats = await ds.query(`SELECT completed_trades, failed_trades FROM p2p_user_stats WHERE user_id = $1`, [buyer.id]);
    expect(stats).toEqual([{ completed_trades: 0, failed_trades: 1 }]);
  });

  it('refuses wrong actors with 403 and wrong states with 409', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const e = await directEscrow(seller, buyer);
    // awaiting_payment
    await act(seller, e.id, 'confirm').expect(403); // the seller cannot mark paid
    await act(buyer, e.id, 'release').expect(403); // the buyer cannot release
    await act(admin, e.id, 'release').expect(403); // admins resolve disputes, they do not release
    expect((await act(seller, e.id, 'release').expect(409)).body.message).toBe('Cannot release an escrow that is awaiting payment');
    await dispute(buyer, e.id).expect(409);
    await resolve(admin, e.id, 'release').expect(409);
    await act(buyer, e.id, 'confirm').expect(200);
    // paid
    await act(buyer, e.id, 'confirm').expect(409);
    await act(buyer, e.id, 'cancel').expect(409);
    await act(buyer, e.id, 'release').expect(403);
    await resolve(admin, e.id, 'refund').expect(409);
    await resolve(buyer, e.id, 'refund').expect(403); // not an admin
    await act(seller, e.id, 'release').expect(200);
    // released
    expect((await act(seller, e.id, 'release').expect(409)).body.message).toBe('Cannot release an escrow that is released');
    await dispute(seller, e.id).expect(409);
    await resolve(admin, e.id, 'refund').expect(409);
    expect((await balanceOf(t, buyer, 'BTC')).total).toBe('0.01000000');
    // Input errors are 400 whatever the state.
    await dispute(buyer, e.id, { reason: '' }).expect(400);
    await dispute(buyer, e.id, { reason: 'x', evidence: ['ftp://x'] }).expect(400);
    await post(admin, `/api/admin/p2p/escrow/${e.id}/resolve`, { outcome: 'split', note: 'x' }).expect(400);
  });

  it('shows strangers nothing: 404 for every read and action, never 409, and refuses their subscriptions', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const stranger = await registerUser(t);
    const open = await directEscrow(seller, buyer);
    const done = await directEscrow(seller, buyer);
    await act(buyer, done.id, 'confirm').expect(200);
    await act(seller, done.id, 'release').expect(200);
    const ghost = '00000000-0000-4000-8000-000000000000';
    for (const id of [open.id, done.id, ghost]) {
      await get(stranger, `${E}/${id}`).expect(404);
      await get(stranger, `${E}/${id}/events`).expect(404);
      for (const a of ['confirm', 'release', 'cancel'] as const) {
        const r = await act(stranger, id, a).expect(404);
        expect(r.body.message).toBe('Escrow not found');
      }
      await dispute(stranger, id).expect(404);
      await resolve(stranger, id, 'release').expect(403); // admin route
    }
    expect((await get(stranger, E).expect(200)).body.items).toEqual([]);
    await get(stranger, '/api/admin/p2p/escrow').expect(403);
    await get(stranger, `${E}/not-a-uuid`).expect(400);
    // GraphQL: the query and the subscription are refused alike.
    const q = await gql(t, 'query($id: ID!) { p2pEscrow(escrowId: $id) { id } }', { id: open.id }, stranger.token).expect(200);
    expect(q.body.errors[0].extensions.code).toBe('NOT_FOUND');
    const sub = subscribe(gqlWs(t, stranger.token), 'subscription($id: ID!) { escrowUpdated(escrowId: $id) { id status } }', { id: open.id });
    const refused = (await sub.next()) as any;
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors[0].extensions.code).toBe('NOT_FOUND');
    // The stranger's sockets hear nothing of it.
    const sock = await connectSocket(t, stranger.token);
    const heard = collect(sock, 'escrow_update');
    const bSock = await connectSocket(t, buyer.token);
    const bHeard = nextEvent(bSock, 'escrow_update');
    await act(buyer, open.id, 'cancel').expect(200);
    await bHeard;
    heard.stop();
    expect(heard.items).toEqual([]);
    // Admins see any escrow and may subscribe.
    const adminSub = subscribe(gqlWs(t, admin.token), 'subscription($id: ID!) { escrowUpdated(escrowId: $id) { id status } }', { id: done.id });
    await waitForGqlSubscriber(t, `p2p:escrow:${done.id}`);
    adminSub.dispose();
    await get(admin, `${E}/${open.id}`).expect(200);
  });

  it('disputes: sealed at opening, frozen, resolved by an admin both ways, exactly once', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const fees0 = await feesBtc();

    // 1. The buyer disputes; the admin releases to the buyer.
    const a = await directEscrow(seller, buyer);
    await post(buyer, `/api/chat/rooms/${a.chatRoomId}/messages`, { content: 'I paid 650.00 USD via SEPA' }).expect(201);
    await post(seller, `/api/chat/rooms/${a.chatRoomId}/messages`, { content: 'Nothing arrived yet' }).expect(201);
    await act(buyer, a.id, 'confirm').expect(200);
    const sSock = await connectSocket(t, seller.token);
    const sUpd = nextEvent(sSock, 'escrow_update', (p: any) => p.escrow.status === 'disputed');
    const d = (await dispute(buyer, a.id, { reason: 'I paid, the seller does not release', evidence: ['https://files.example/receipt.png'] }).expect(200)).body;
    expect(d).toMatchObject({
      status: 'disputed',
      disputedAt: expect.any(String),
      dispute: {
        openedBy: buyer.id,
        openedByRole: 'buyer',
        reason: 'I paid, the seller does not release',
        evidence: ['https://files.example/receipt.png'],
        sealHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        sealedChatSeq: 2,
        outcome: null,
      },
    });
    expect((await sUpd).escrow.dispute.sealHash).toBe(d.dispute.sealHash);
    expect((await inboxTopped(t, seller, 'Your P2P trade is disputed'))[0]).toMatchObject({ type: 'escrow', data: { escrowId: a.id } });
    expect((await inboxTopped(t, admin, 'P2P dispute to arbitrate'))[0]).toMatchObject({ data: { escrowId: a.id } });
    // Later chat messages do not change the seal.
    await post(seller, `/api/chat/rooms/${a.chatRoomId}/messages`, { content: 'ok it arrived' }).expect(201);
    expect((await get(admin, `/api/admin/p2p/escrow/${a.id}/seal`).expect(200)).body).toEqual({
      escrowId: a.id,
      sealHash: d.dispute.sealHash,
      recomputed: d.dispute.sealHash,
      matches: true,
      sealedChatSeq: 2,
    });
    await get(seller, `/api/admin/p2p/escrow/${a.id}/seal`).expect(403);
    // Frozen: the parties can do nothing now.
    await act(seller, a.id, 'release').expect(409);
    await dispute(seller, a.id).expect(409);
    await act(buyer, a.id, 'cancel').expect(409);
    expect((await balanceOf(t, seller, 'BTC')).held).toBe('0.01010000');
    expect((await get(admin, '/api/admin/p2p/escrow?status=disputed').expect(200)).body.items.map((x: any) => x.id)).toContain(a.id);

    await resolve(admin, a.id, 'release', '').expect(400);
    const r1 = (await resolve(admin, a.id, 'release', 'The SEPA transfer is on the statement').expect(200)).body;
    expect(r1).toMatchObject({
      status: 'released',
      dispute: { outcome: 'release', resolutionNote: 'The SEPA transfer is on the statement', resolvedBy: admin.id, resolvedAt: expect.any(String) },
    });
    await resolve(admin, a.id, 'refund').expect(409);
    await resolve(admin, a.id, 'release').expect(409);
    expect((await balanceOf(t, buyer, 'BTC')).total).toBe('0.01000000');
    expect((await feesBtc()) - fees0).toBe(10_000n);

    // 2. The seller disputes; the admin refunds the seller (no fee is charged).
    const b = await directEscrow(seller, buyer);
    await act(buyer, b.id, 'confirm').expect(200);
    const d2 = (await dispute(seller, b.id, { reason: 'No payment arrived' }).expect(200)).body;
    expect(d2.dispute).toMatchObject({ openedBy: seller.id, openedByRole: 'seller', evidence: [], sealedChatSeq: 0 });
    const r2 = (await resolve(admin, b.id, 'refund', 'No payment shown').expect(200)).body;
    expect(r2).toMatchObject({ status: 'refunded', refundedAt: expect.any(String), dispute: { outcome: 'refund' } });
    expect(await heldOf(b.id)).toEqual({ status: 'voided', remaining: '0' });
    expect(await balanceOf(t, seller, 'BTC')).toEqual({ asset: 'BTC', available: '0.98990000', held: '0.00000000', total: '0.98990000' });
    expect((await balanceOf(t, buyer, 'BTC')).total).toBe('0.01000000');
    expect((await feesBtc()) - fees0).toBe(10_000n);
    await act(seller, b.id, 'release').expect(409);

    const events = (await get(seller, `${E}/${b.id}/events`).expect(200)).body;
    expect(events.map((x: any) => [x.toStatus, x.actorRole, x.note])).toEqual([
      ['awaiting_payment', 'seller', null],
      ['paid', 'buyer', null],
      ['disputed', 'seller', 'No payment arrived'],
      ['refunded', 'admin', 'No payment shown'],
    ]);
  });

  it('does not let an admin arbitrate a trade they are a party to', async () => {
    const buyer = await registerUser(t);
    await deposit(t, admin, admin.id, 'BTC', '0.1');
    const e = await directEscrow(admin, buyer);
    await act(buyer, e.id, 'confirm').expect(200);
    await dispute(buyer, e.id).expect(200);
    expect((await resolve(admin, e.id, 'refund').expect(403)).body.message).toMatch(/party/);
    // Another admin could; here the buyer's claim stays open. Clean up by a second admin.
    const other = await registerUser(t);
    await http(t).patch(`/api/admin/users/${other.id}`).set('authorization', auth(admin)).send({ roles: ['user', 'admin'] }).expect(200);
    // Tokens issued in the second of a role change are refused (iat has 1 s resolution): log in after it.
    await new Promise((r) => setTimeout(r, 1100));
    const login = await http(t).post('/api/auth/login').send({ email: other.email, password: other.password }).expect(200);
    await resolve({ ...other, token: login.body.accessToken }, e.id, 'refund').expect(200);
  });

  it('lets exactly one of release and dispute win when they race, with the money to match', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const n = 12;
    const escrows: any[] = [];
    for (let i = 0; i < n; i++) escrows.push(await directEscrow(seller, buyer, '0.01'));
    for (const e of escrows) await act(buyer, e.id, 'confirm').expect(200);
    const results = await Promise.all(
      escrows.map(async (e, i) => {
        // Alternate who goes first so either side may win.
        const calls = [() => act(seller, e.id, 'release'), () => dispute(i % 2 ? buyer : seller, e.id)];
        if (i % 3 === 0) calls.reverse();
        const [x, y] = await Promise.all(calls.map((c) => c()));
        return { id: e.id, statuses: [x.status, y.status] };
      }),
    );
    let released = 0;
    for (const r of results) {
      expect(r.statuses.sort()).toEqual([200, 409]);
      const e = (await get(seller, `${E}/${r.id}`).expect(200)).body;
      expect(['released', 'disputed']).toContain(e.status);
      const hold = await heldOf(r.id);
      if (e.status === 'released') {
        released++;
        expect(hold).toEqual({ status: 'posted', remaining: '0' });
      } else {
        expect(hold).toEqual({ status: 'pending', remaining: '1010000' });
      }
    }
    const disputed = n - released;
    expect(await balanceOf(t, buyer, 'BTC')).toMatchObject({ total: formatSat(BigInt(released) * 1_000_000n) });
    const held = BigInt(disputed) * 1_010_000n;
    const total = 100_000_000n - BigInt(released) * 1_010_000n;
    expect(await balanceOf(t, seller, 'BTC')).toEqual({
      asset: 'BTC',
      available: formatSat(total - held),
      held: formatSat(held),
      total: formatSat(total),
    });
  });

  it('lets exactly one of cancel and confirm win when they race', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const escrows: any[] = [];
    for (let i = 0; i < 8; i++) escrows.push(await directEscrow(seller, buyer, '0.01'));
    const outcomes = await Promise.all(
      escrows.map(async (e) => {
        const [c, p] = await Promise.all([act(buyer, e.id, 'cancel'), act(buyer, e.id, 'confirm')]);
        return [c.status, p.status].sort();
      }),
    );
    for (const o of outcomes) expect(o).toEqual([200, 409]);
    const states = await Promise.all(escrows.map(async (e) => (await get(buyer, `${E}/${e.id}`).expect(200)).body.status));
    const paid = states.filter((s) => s === 'paid').length;
    expect(states.filter((s) => s === 'cancelled').length + paid).toBe(8);
    expect((await balanceOf(t, seller, 'BTC')).held).toBe(formatSat(BigInt(paid) * 1_010_000n));
  });

  it('replays an Idempotency-Key: the same escrow, held once; another body is a 409', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const offer = (
      await post(seller, O, { side: 'sell', asset: 'BTC', fiatCurrency: 'USD', price: '65000', minAmount: '0.001', maxAmount: '0.5', paymentMethods: ['SEPA'], paymentWindowSeconds: 900 }).expect(201)
    ).body;
    const first = await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.02' }, 'accept-1').expect(201);
    const again = await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.02' }, 'accept-1').expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    await post(buyer, `${O}/${offer.id}/accept`, { amount: '0.03' }, 'accept-1').expect(409);
    expect((await balanceOf(t, seller, 'BTC')).held).toBe('0.02020000');
    expect((await get(buyer, `${E}?role=buyer`).expect(200)).body.items).toHaveLength(1);

    // Direct creation, same.
    const body = { buyerId: buyer.id, asset: 'BTC', amount: '0.01', fiatCurrency: 'USD', fiatAmount: '650.00', paymentMethod: 'SEPA', paymentWindowSeconds: 900 };
    const d1 = await post(seller, E, body, 'direct-1').expect(201);
    const d2 = await post(seller, E, body, 'direct-1').expect(201);
    expect(d2.body.id).toBe(d1.body.id);
    await post(seller, E, { ...body, amount: '0.02' }, 'direct-1').expect(409);
    expect((await balanceOf(t, seller, 'BTC')).held).toBe('0.03030000');

    // A replayed release returns the first answer and moves nothing; a new release is a 409.
    const e = first.body;
    await act(buyer, e.id, 'confirm', 'confirm-1').expect(200);
    const rel1 = await act(seller, e.id, 'release', 'release-1').expect(200);
    const rel2 = await act(seller, e.id, 'release', 'release-1').expect(200);
    expect(rel2.headers['idempotent-replayed']).toBe('true');
    expect(rel2.body).toEqual(rel1.body);
    await act(seller, e.id, 'release', 'release-2').expect(409);
    await act(seller, e.id, 'release').expect(409);
    expect((await balanceOf(t, buyer, 'BTC')).total).toBe('0.02000000');
    expect(await balanceOf(t, seller, 'BTC')).toMatchObject({ held: '0.01010000', total: '0.97980000' });
    const transfers = await ds.query(`SELECT kind, amount::text FROM ledger_transfers WHERE reference = $1 ORDER BY kind`, [e.id]);
    expect(transfers).toEqual([
      { kind: 'fee', amount: '20000' },
      { kind: 'p2p_release', amount: '2000000' },
    ]);
  });

  it('serves the same flow over GraphQL', async () => {
    const seller = await funded('1');
    const buyer = await registerUser(t);
    const offer = await gql(
      t,
      `mutation($i: CreateP2POfferInput!) { createP2pOffer(input: $i) { id price reputation { completedTrades completionRate } } }`,
      { i: { side: 'sell', asset: 'BTC', fiatCurrency: 'GBP', price: '50000.25', minAmount: '0.001', maxAmount: '1', paymentMethods: ['Faster Payments'], paymentWindowSeconds: 600 } },
      seller.token,
    ).expect(200);
    const offerId = offer.body.data.createP2pOffer.id;
    expect(offer.body.data.createP2pOffer).toMatchObject({ price: '50000.25', reputation: { completedTrades: 0, completionRate: null } });
    const list = await gql(t, `query { p2pOffers(asset: "BTC", side: "sell", fiatCurrency: "GBP") { items { id username } } }`, {}, buyer.token).expect(200);
    expect(list.body.data.p2pOffers.items.map((o: any) => o.id)).toContain(offerId);
    const acc = await gql(
      t,
      `mutation($o: ID!, $k: String) { acceptP2pOffer(offerId: $o, input: { amount: "0.002" }, idempotencyKey: $k) { id status fiatAmount fee } }`,
      { o: offerId, k: 'gql-accept-1' },
      buyer.token,
    ).expect(200);
    const e = acc.body.data.acceptP2pOffer;
    expect(e).toMatchObject({ status: 'awaiting_payment', fiatAmount: '100.00', fee: '0.00002000' });
    const replay = await gql(t, `mutation($o: ID!, $k: String) { acceptP2pOffer(offerId: $o, input: { amount: "0.002" }, idempotencyKey: $k) { id } }`, { o: offerId, k: 'gql-accept-1' }, buyer.token);
    expect(replay.body.data.acceptP2pOffer.id).toBe(e.id);
    const wrong = await gql(t, `mutation($id: ID!) { releaseP2pEscrow(escrowId: $id) { id } }`, { id: e.id }, buyer.token).expect(200);
    expect(wrong.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const early = await gql(t, `mutation($id: ID!) { releaseP2pEscrow(escrowId: $id) { id } }`, { id: e.id }, seller.token).expect(200);
    expect(early.body.errors[0].extensions.code).toBe('CONFLICT');
    await gql(t, `mutation($id: ID!) { confirmP2pPayment(escrowId: $id) { status } }`, { id: e.id }, buyer.token).expect(200);
    const rel = await gql(t, `mutation($id: ID!) { releaseP2pEscrow(escrowId: $id) { status } }`, { id: e.id }, seller.token).expect(200);
    expect(rel.body.data.releaseP2pEscrow.status).toBe('released');
    const mine = await gql(t, `query { myP2pEscrows(role: "buyer") { items { id status } } }`, {}, buyer.token).expect(200);
    expect(mine.body.data.myP2pEscrows.items).toEqual([{ id: e.id, status: 'released' }]);
    const notAdmin = await gql(t, `query { adminP2pEscrows { items { id } } }`, {}, buyer.token).expect(200);
    expect(notAdmin.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await balanceOf(t, buyer, 'BTC')).total).toBe('0.00200000');
  });
});

function formatSat(v: bigint): string {
  const s = v.toString().padStart(9, '0');
  return `${s.slice(0, -8)}.${s.slice(-8)}`;
}
