import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
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
  nextEvent,
  registerUser,
  subscribe,
  TestUser,
  waitForGqlSubscriber,
} from './harness/clients';
import { balanceOf, deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { BookCacheService } from '../src/modules/trading/book-cache.service';
import { PairWriter } from '../src/modules/trading/pair-writer';

type Body = Record<string, unknown>;

/**
 * The trading board end to end: REST, Socket.IO and GraphQL against two instances of the real
 * app on one Postgres and one Redis. Every test leaves the books empty (afterEach cancels what
 * its users left resting), so tests do not depend on each other.
 */
describe('trading board', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: TestUser;
  let ds: DataSource;
  let users: TestUser[] = [];

  const user = async (funds: [string, string][] = []) => {
    const u = await registerUser(a);
    for (const [asset, amount] of funds) await deposit(a, admin, u.id, asset, amount);
    users.push(u);
    return u;
  };
  const place = (u: TestUser, body: Body, t: TestApp = a) =>
    http(t).post('/api/trading/orders').set('authorization', `Bearer ${u.token}`).send(body);
  const placed = async (u: TestUser, body: Body, t: TestApp = a) => (await place(u, body, t).expect(201)).body;
  const cancel = (u: TestUser, id: string, t: TestApp = a) =>
    http(t).put(`/api/trading/orders/${id}`).set('authorization', `Bearer ${u.token}`).send({ status: 'cancelled' });
  const getOrder = async (u: TestUser, id: string) =>
    (await http(a).get(`/api/trading/orders/${id}`).set('authorization', `Bearer ${u.token}`).expect(200)).body;
  const book = async (pairId: string, t: TestApp = a) => (await http(t).get(`/api/crypto/orderbook/${pairId}`).expect(200)).body;
  const bal = async (u: TestUser, asset: string) => {
    const x = await balanceOf(a, u, asset);
    return `${x.total}/${x.held}`;
  };

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ shareWith: a });
    admin = await loginAdmin(a);
    ds = a.app.get(getDataSourceToken());
  });
  afterEach(async () => {
    for (const u of users) {
      const open = await http(a).get('/api/trading/orders?status=open,partially_filled&limit=200').set('authorization', `Bearer ${u.token}`).expect(200);
      for (const o of open.body.items) await cancel(u, o.id).expect(200);
    }
    users = [];
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await b?.close();
    await a?.close();
  });

  it('lists the pairs with their rules and 24 h figures; the book starts empty; unknown pairs are 404', async () => {
    const res = await http(a).get('/api/crypto/trading/pairs').expect(200);
    expect(res.body.items.map((p: any) => p.id)).toEqual(['BTC-USD', 'BTC-USDT', 'ETH-BTC', 'ETH-USD']);
    const pair = await http(a).get('/api/crypto/trading/pairs/BTC-USD').expect(200);
    expect(pair.body).toMatchObject({
      id: 'BTC-USD',
      base: 'BTC',
      quote: 'USD',
      status: 'trading',
      tickSize: '0.01',
      lotSize: '0.00010000',
      minPrice: '100.00',
      minNotional: '1.00',
      lastPrice: null,
      change24h: null,
      high24h: null,
      low24h: null,
      volume24h: '0.00000000',
    });
    await http(a).get('/api/crypto/trading/pairs/DOGE-USD').expect(404);
    await http(a).get('/api/crypto/orderbook/DOGE-USD').expect(404);
    expect(await book('BTC-USD')).toEqual({ pairId: 'BTC-USD', sequence: 0, bids: [], asks: [] });
    expect((await http(a).get('/api/crypto/trades/BTC-USD').expect(200)).body).toEqual({ items: [], nextCursor: null });
  });

  it('refuses invalid orders with 400 naming the field, unknown pairs with 404 and unfunded ones with 422, holding nothing', async () => {
    const u = await user([['USD', '50.00']]);
    const base = { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '30000.00', quantity: '0.0010' };
    const cases: [Body, RegExp][] = [
      [{ price: '30000.001' }, /price has too many decimal places/],
      [{ pairId: 'ETH-BTC', price: '0.0500005', quantity: '0.1000' }, /price must be a multiple of the tick size 0.00000100 for ETH-BTC/],
      [{ price: '50.00' }, /price must be between 100.00 and/],
      [{ quantity: '0.00015' }, /quantity must be a multiple of the lot size 0.00010000/],
      [{ quantity: 0.001 }, /quantity must be a decimal string/],
      [{ quantity: '-1' }, /quantity/],
      [{ quantity: '1e3' }, /quantity/],
      [{ price: 'abc' }, /price/],
      [{ side: 'hold' }, /side must be ..buy.. or ..sell/],
      [{ type: 'stop' }, /type must be ..limit.. or ..market/],
      [{ price: undefined }, /price is required for a limit order/],
      [{ type: 'market' }, /price must not be given for a market order/],
      [{ quantity: '0.0001', price: '100.00' }, /at least 1.00 USD/],
      [{ timeInForce: 'GTX' }, /timeInForce/],
      [{ extra: 1 }, /extra/],
    ];
    for (const [patch, msg] of cases) {
      const res = await place(u, { ...base, ...patch }).expect(400);
      expect([patch, JSON.stringify(res.body.message)]).toEqual([patch, expect.stringMatching(msg)]);
    }
    await place(u, { ...base, pairId: 'DOGE-USD' }).expect(404);
    const poor = await place(u, { ...base, quantity: '0.0100' }).expect(422);
    expect(poor.body.message).toMatch(/Insufficient USD/);
    await place(u, { ...base, side: 'sell' }).expect(422);
    expect(await bal(u, 'USD')).toBe('50.00/0.00');
    expect((await http(a).get('/api/trading/orders').set('authorization', `Bearer ${u.token}`).expect(200)).body.items).toEqual([]);
    await http(a).post('/api/trading/orders').send(base).expect(401);
  });

  it('holds funds for a resting order, hides it from others, and releases the hold exactly on cancel', async () => {
    const alice = await user([['USD', '1000.00']]);
    const bob = await user();
    const seq0 = (await book('BTC-USD')).sequence;
    const o = await placed(alice, { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '30000.00', quantity: '0.0100' });
    expect(o).toMatchObject({
      pairId: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      timeInForce: 'GTC',
      price: '30000.00',
      quantity: '0.01000000',
      filledQuantity: '0.00000000',
      remainingQuantity: '0.01000000',
      averagePrice: null,
      status: 'open',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await balanceOf(a, alice, 'USD')).toEqual({ asset: 'USD', available: '700.00', held: '300.00', total: '1000.00' });
    expect(await book('BTC-USD')).toEqual({ pairId: 'BTC-USD', sequence: seq0 + 1, bids: [['30000.00', '0.01000000']], asks: [] });
    expect(await getOrder(alice, o.id)).toEqual(o);
    const mine = await http(a).get('/api/trading/orders?status=open').set('authorization', `Bearer ${alice.token}`).expect(200);
    expect(mine.body.items.map((x: any) => x.id)).toEqual([o.id]);

    // Someone else's order does not exist for them, whatever they try.
    await http(a).get(`/api/trading/orders/${o.id}`).set('authorization', `Bearer ${bob.token}`).expect(404);
    await cancel(bob, o.id).expect(404);
    await http(a).delete(`/api/trading/orders/${o.id}`).set('authorization', `Bearer ${bob.token}`).expect(404);
    await http(a).put(`/api/trading/orders/${o.id}`).set('authorization', `Bearer ${bob.token}`).send({ price: '1.00' }).expect(404);
    await http(a).get(`/api/trading/orders/not-a-uuid`).set('authorization', `Bearer ${alice.token}`).expect(404);

    const c = await cancel(alice, o.id).expect(200);
    expect(c.body).toMatchObject({ id: o.id, status: 'cancelled', cancelReason: 'user', remainingQuantity: '0.00000000' });
    expect(await balanceOf(a, alice, 'USD')).toEqual({ asset: 'USD', available: '1000.00', held: '0.00', total: '1000.00' });
    await cancel(alice, o.id).expect(409);
    await http(a).put(`/api/trading/orders/${o.id}`).set('authorization', `Bearer ${alice.token}`).send({ status: 'cancelled', price: '1.00' }).expect(400);
    expect(await book('BTC-USD')).toEqual({ pairId: 'BTC-USD', sequence: seq0 + 2, bids: [], asks: [] });
  });

  it('matches by price then time at the maker price, fills partially and settles both sides exactly', async () => {
    const seller = await user([['BTC', '1']]);
    const buyer = await user([['USD', '2000.00']]);
    const s1 = await placed(seller, { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '30000.00', quantity: '0.0300' });
    const s2 = await placed(seller, { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '30100.00', quantity: '0.0200' });
    expect(await bal(seller, 'BTC')).toBe('1.00000000/0.05000000');
    const t = await placed(buyer, { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '30200.00', quantity: '0.0400' });
    // 0.03 × 30000 = 900.00 and 0.01 × 30100 = 301.00: the maker's price, not the taker's 30200.
    expect(t).toMatchObject({ status: 'filled', filledQuantity: '0.04000000', averagePrice: '30025.00', quoteQuantity: '1201.00', remainingQuantity: '0.00000000' });
    // The buy held 30200 × 0.04 = 1208.00; the unused 7.00 came back.
    expect(await bal(buyer, 'USD')).toBe('799.00/0.00');
    expect(await bal(buyer, 'BTC')).toBe('0.04000000/0.00000000');
    expect(await bal(seller, 'USD')).toBe('1201.00/0.00');
    expect(await bal(seller, 'BTC')).toBe('0.96000000/0.01000000');
    expect(await getOrder(seller, s1.id)).toMatchObject({ status: 'filled', filledQuantity: '0.03000000', averagePrice: '30000.00' });
    expect(await getOrder(seller, s2.id)).toMatchObject({ status: 'partially_filled', filledQuantity: '0.01000000', remainingQuantity: '0.01000000' });
    expect((await book('BTC-USD')).asks).toEqual([['30100.00', '0.01000000']]);

    const trades = (await http(a).get('/api/crypto/trades/BTC-USD?limit=2').expect(200)).body;
    expect(trades.items.map((x: any) => [x.price, x.quantity, x.quoteAmount, x.side])).toEqual([
      ['30100.00', '0.01000000', '301.00', 'buy'],
      ['30000.00', '0.03000000', '900.00', 'buy'],
    ]);
    expect(trades.items[0]).toEqual({ id: expect.any(String), pairId: 'BTC-USD', price: '30100.00', quantity: '0.01000000', quoteAmount: '301.00', side: 'buy', at: expect.any(String) });
    const fills = (await http(a).get(`/api/trading/orders/${s2.id}/trades`).set('authorization', `Bearer ${seller.token}`).expect(200)).body;
    expect(fills).toEqual([expect.objectContaining({ liquidity: 'maker', side: 'sell', price: '30100.00', quantity: '0.01000000', fee: '0.00', feeAsset: 'USD' })]);
    const hist = (await http(a).get(`/api/wallet/${buyer.id}/transactions`).set('authorization', `Bearer ${buyer.token}`).expect(200)).body.items;
    expect(hist.filter((h: any) => h.type === 'trade').map((h: any) => [h.asset, h.amount]).sort()).toEqual(
      [['BTC', '0.01000000'], ['BTC', '0.03000000'], ['USD', '-301.00'], ['USD', '-900.00']].sort(),
    );

    const pair = (await http(a).get('/api/crypto/trading/pairs/BTC-USD').expect(200)).body;
    expect(pair).toMatchObject({ lastPrice: '30100.00', high24h: '30100.00', low24h: '30000.00', volume24h: '0.04000000', quoteVolume24h: '1201.00', change24h: '0.33', priceChange24h: '100.00', trades24h: 2 });

    // Candles come from the same trades.
    const k = (await http(a).get('/api/crypto/klines/BTC-USD?interval=1h').expect(200)).body;
    expect(k).toMatchObject({ pairId: 'BTC-USD', interval: '1h' });
    expect(k.items.at(-1)).toMatchObject({ open: '30000.00', high: '30100.00', low: '30000.00', close: '30100.00', volume: '0.04000000', quoteVolume: '1201.00', trades: 2 });
    await http(a).get('/api/crypto/klines/BTC-USD?interval=7s').expect(400);

    // The platform's own trades price BTC (the internal provider: this machine is offline).
    const price = await eventually(async () => {
      const r = await http(a).get('/api/crypto/prices/BTC');
      return r.status === 200 && r.body.price === '30100.00' ? r.body : null;
    });
    expect(price).toMatchObject({ symbol: 'BTC', price: '30100.00', currency: 'USD', source: 'internal', change24h: '0.33', updatedAt: expect.any(String) });
    await http(a).get('/api/crypto/prices/DOGE').expect(404);
    expect((await http(a).get('/api/crypto/prices/usd').expect(200)).body).toMatchObject({ symbol: 'USD', price: '1.00', source: 'fixed' });
  });

  it('market, IOC and FOK orders never rest; a market order on an empty book is cancelled holding nothing', async () => {
    const taker = await user([['USD', '1000.00']]);
    const maker = await user([['ETH', '1']]);
    const seq0 = (await book('ETH-USD')).sequence;
    const m0 = await placed(taker, { pairId: 'ETH-USD', side: 'buy', type: 'market', quantity: '0.010' });
    expect(m0).toMatchObject({ status: 'cancelled', cancelReason: 'market', filledQuantity: '0.000000000000000000', timeInForce: 'IOC', price: null });
    expect(await bal(taker, 'USD')).toBe('1000.00/0.00');
    expect((await book('ETH-USD')).sequence).toBe(seq0);

    await placed(maker, { pairId: 'ETH-USD', side: 'sell', type: 'limit', price: '2000.00', quantity: '0.010' });
    await placed(maker, { pairId: 'ETH-USD', side: 'sell', type: 'limit', price: '2010.00', quantity: '0.010' });
    const fok = await placed(taker, { pairId: 'ETH-USD', side: 'buy', type: 'limit', timeInForce: 'FOK', price: '2010.00', quantity: '0.030' });
    expect(fok).toMatchObject({ status: 'cancelled', cancelReason: 'fok', filledQuantity: '0.000000000000000000' });
    expect((await book('ETH-USD')).asks).toEqual([
      ['2000.00', '0.010000000000000000'],
      ['2010.00', '0.010000000000000000'],
    ]);
    const ioc = await placed(taker, { pairId: 'ETH-USD', side: 'buy', type: 'limit', timeInForce: 'IOC', price: '2005.00', quantity: '0.015' });
    expect(ioc).toMatchObject({ status: 'cancelled', cancelReason: 'ioc', filledQuantity: '0.010000000000000000', quoteQuantity: '20.00' });
    expect(await bal(taker, 'USD')).toBe('980.00/0.00');
    const mkt = await placed(taker, { pairId: 'ETH-USD', side: 'buy', type: 'market', quantity: '0.020' });
    expect(mkt).toMatchObject({ status: 'cancelled', cancelReason: 'market', filledQuantity: '0.010000000000000000', quoteQuantity: '20.10', averagePrice: '2010.00' });
    expect(await bal(taker, 'USD')).toBe('959.90/0.00');
    expect(await bal(taker, 'ETH')).toBe('0.020000000000000000/0.000000000000000000');
    // A FOK that can fill, fills completely.
    await placed(maker, { pairId: 'ETH-USD', side: 'sell', type: 'limit', price: '2020.00', quantity: '0.002' });
    const fok2 = await placed(taker, { pairId: 'ETH-USD', side: 'buy', type: 'market', timeInForce: 'FOK', quantity: '0.002' });
    expect(fok2).toMatchObject({ status: 'filled', quoteQuantity: '4.04' });
    // A market sell into an empty bid side: nothing happens, nothing is held.
    const ms = await placed(maker, { pairId: 'ETH-USD', side: 'sell', type: 'market', quantity: '0.100' });
    expect(ms).toMatchObject({ status: 'cancelled', filledQuantity: '0.000000000000000000' });
    expect(await bal(maker, 'ETH')).toBe('0.978000000000000000/0.000000000000000000');
    expect(await book('ETH-USD')).toMatchObject({ bids: [], asks: [] });
    // A market buy that sweeps more than the buyer has is refused whole.
    await placed(maker, { pairId: 'ETH-USD', side: 'sell', type: 'limit', price: '100000.00', quantity: '0.100' });
    await place(taker, { pairId: 'ETH-USD', side: 'buy', type: 'market', quantity: '0.100' }).expect(422);
    expect(await bal(taker, 'USD')).toBe('955.86/0.00');
  });

  it('self-trade prevention stops the incoming order at its own resting order and cancels the rest', async () => {
    const a1 = await user([['BTC', '1'], ['USDT', '1000']]);
    const other = await user([['BTC', '1']]);
    const third = await user([['BTC', '1']]);
    await placed(other, { pairId: 'BTC-USDT', side: 'sell', type: 'limit', price: '49000.00', quantity: '0.00100' });
    const own = await placed(a1, { pairId: 'BTC-USDT', side: 'sell', type: 'limit', price: '50000.00', quantity: '0.00100' });
    await placed(third, { pairId: 'BTC-USDT', side: 'sell', type: 'limit', price: '50000.00', quantity: '0.00100' });
    const buy = await placed(a1, { pairId: 'BTC-USDT', side: 'buy', type: 'limit', price: '50000.00', quantity: '0.00300' });
    expect(buy).toMatchObject({ status: 'cancelled', cancelReason: 'self_trade', filledQuantity: '0.00100000', quoteQuantity: '49.000000' });
    expect(await getOrder(a1, own.id)).toMatchObject({ status: 'open', filledQuantity: '0.00000000' });
    expect(await bal(a1, 'USDT')).toBe('951.000000/0.000000');
    expect((await book('BTC-USDT')).asks).toEqual([['50000.00', '0.00200000']]);
    const trades = (await http(a).get('/api/crypto/trades/BTC-USDT').expect(200)).body.items;
    expect(trades).toHaveLength(1);
  });

  it('replace loses time priority, re-holds for the new size, and trades at once when it crosses', async () => {
    const m1 = await user([['ETH', '1']]);
    const m2 = await user([['ETH', '1']]);
    const taker = await user([['BTC', '1']]);
    const o1 = await placed(m1, { pairId: 'ETH-BTC', side: 'sell', type: 'limit', price: '0.050000', quantity: '0.1000' });
    await placed(m2, { pairId: 'ETH-BTC', side: 'sell', type: 'limit', price: '0.050000', quantity: '0.1000' });
    const r = await http(a).put(`/api/trading/orders/${o1.id}`).set('authorization', `Bearer ${m1.token}`).send({ quantity: '0.2000' }).expect(200);
    expect(r.body).toMatchObject({ id: o1.id, quantity: '0.200000000000000000', status: 'open' });
    expect(await bal(m1, 'ETH')).toBe('1.000000000000000000/0.200000000000000000');
    // m2 is now first in line.
    await placed(taker, { pairId: 'ETH-BTC', side: 'buy', type: 'limit', price: '0.050000', quantity: '0.1000' });
    expect(await bal(m2, 'ETH')).toBe('0.900000000000000000/0.000000000000000000');
    expect(await bal(m1, 'ETH')).toBe('1.000000000000000000/0.200000000000000000');

    // A resting bid; m1 moves its ask down through it: a trade at the bid's (maker's) price.
    const bid = await placed(taker, { pairId: 'ETH-BTC', side: 'buy', type: 'limit', price: '0.048000', quantity: '0.0500' });
    const moved = await http(a).put(`/api/trading/orders/${o1.id}`).set('authorization', `Bearer ${m1.token}`).send({ price: '0.047000' }).expect(200);
    expect(moved.body).toMatchObject({ status: 'partially_filled', filledQuantity: '0.050000000000000000', averagePrice: '0.04800000', price: '0.047000' });
    expect(await getOrder(taker, bid.id)).toMatchObject({ status: 'filled' });
    expect((await book('ETH-BTC')).asks).toEqual([['0.047000', '0.150000000000000000']]);
    expect(await bal(m1, 'ETH')).toBe('0.950000000000000000/0.150000000000000000');
    expect(await bal(m1, 'BTC')).toBe('0.00240000/0.00000000');

    // Replacing beyond the funds is refused and changes nothing; a filled order cannot be replaced.
    await http(a).put(`/api/trading/orders/${o1.id}`).set('authorization', `Bearer ${m1.token}`).send({ quantity: '5.0000' }).expect(422);
    expect(await getOrder(m1, o1.id)).toMatchObject({ quantity: '0.200000000000000000', price: '0.047000' });
    await http(a).put(`/api/trading/orders/${o1.id}`).set('authorization', `Bearer ${m1.token}`).send({ quantity: '0.0500' }).expect(400);
    await http(a).put(`/api/trading/orders/${bid.id}`).set('authorization', `Bearer ${taker.token}`).send({ price: '0.049000' }).expect(409);
    await cancel(taker, bid.id).expect(409);
  });

  it('announces order updates to the owner, book diffs and trades to the room, on Socket.IO and GraphQL, across instances', async () => {
    const maker = await user([['BTC', '1']]);
    const taker = await user([['USD', '5000.00']]);
    const watcher = await user();

    const makerSock = await connectSocket(a, maker.token);
    const takerSock = await connectSocket(b, taker.token);
    const watchSock = await connectSocket(b, watcher.token);
    const joined = await emitAck(watchSock, 'join_trading_room', { tradingPairId: 'BTC-USD' });
    expect(joined).toMatchObject({ ok: true, data: { pairId: 'BTC-USD', joined: true, orderbook: { pairId: 'BTC-USD', bids: [], asks: [] } } });
    const seq = joined.data.orderbook.sequence as number;
    expect(await emitAck(watchSock, 'join_trading_room', { tradingPairId: 'NOPE-USD' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await emitAck(watchSock, 'join_trading_room', { tradingPairId: 'btc/usd' })).toMatchObject({ ok: true, data: { pairId: 'BTC-USD' } });
    expect(await emitAck(watchSock, 'join_trading_room', {})).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const watcherOrders = collect(watchSock, 'order_update');

    const ws = gqlWs(b, watcher.token);
    const bookSub = subscribe(ws, 'subscription($p: ID!) { orderBookUpdated(pairId: $p) { pairId sequence bids asks } }', { p: 'BTC-USD' });
    const tradeSub = subscribe(ws, 'subscription($p: ID!) { tradeExecuted(pairId: $p) { pairId price quantity side at } }', { p: 'BTC-USD' });
    const orderSub = subscribe(gqlWs(a, maker.token), 'subscription { orderUpdated { id status filledQuantity } }');
    await waitForGqlSubscriber(b, 'trading:book:BTC-USD');
    await waitForGqlSubscriber(b, 'trading:trades:BTC-USD');
    await waitForGqlSubscriber(a, `trading:order:${maker.id}`);

    // A maker's order on instance A...
    const bookEv1 = nextEvent(watchSock, 'orderbook_update', (p: any) => p.sequence === seq + 1);
    const makerEv1 = nextEvent(makerSock, 'order_update');
    const mo = await placed(maker, { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '40000.00', quantity: '0.0500' }, a);
    expect(await bookEv1).toEqual({ pairId: 'BTC-USD', sequence: seq + 1, bids: [], asks: [['40000.00', '0.05000000']] });
    expect(await makerEv1).toMatchObject({ orderId: mo.id, status: 'open', data: { id: mo.id, status: 'open', price: '40000.00' } });
    expect((await bookSub.next()).data.orderBookUpdated).toEqual({ pairId: 'BTC-USD', sequence: seq + 1, bids: [], asks: [['40000.00', '0.05000000']] });
    expect((await orderSub.next()).data.orderUpdated).toEqual({ id: mo.id, status: 'open', filledQuantity: '0.00000000' });

    // ...taken by a taker on instance B.
    const bookEv2 = nextEvent(watchSock, 'orderbook_update', (p: any) => p.sequence === seq + 2);
    const tradeEv = nextEvent(watchSock, 'trade_executed');
    const takerEv = nextEvent(takerSock, 'order_update');
    const makerEv2 = nextEvent(makerSock, 'order_update', (p: any) => p.status === 'filled');
    const to = await placed(taker, { pairId: 'BTC-USD', side: 'buy', type: 'market', quantity: '0.0500' }, b);
    expect(to.status).toBe('filled');
    expect(await bookEv2).toEqual({ pairId: 'BTC-USD', sequence: seq + 2, bids: [], asks: [['40000.00', '0.00000000']] });
    expect(await tradeEv).toEqual({ id: expect.any(String), pairId: 'BTC-USD', price: '40000.00', quantity: '0.05000000', quoteAmount: '2000.00', side: 'buy', at: expect.any(String) });
    expect(await takerEv).toMatchObject({ orderId: to.id, status: 'filled', data: { filledQuantity: '0.05000000', averagePrice: '40000.00' } });
    expect(await makerEv2).toMatchObject({ orderId: mo.id, status: 'filled' });
    expect((await tradeSub.next()).data.tradeExecuted).toEqual({ pairId: 'BTC-USD', price: '40000.00', quantity: '0.05000000', side: 'buy', at: expect.any(String) });
    expect((await bookSub.next()).data.orderBookUpdated.sequence).toBe(seq + 2);
    expect((await orderSub.next()).data.orderUpdated).toEqual({ id: mo.id, status: 'filled', filledQuantity: '0.05000000' });
    // Private order events never reach anyone else.
    expect(watcherOrders.items).toEqual([]);

    // Leaving the room stops the market data.
    await emitAck(watchSock, 'leave_trading_room', { tradingPairId: 'BTC-USD' });
    const after = collect(watchSock, 'orderbook_update');
    const own = nextEvent(makerSock, 'order_update', (p: any) => p.data.price === '41000.00');
    await placed(maker, { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '41000.00', quantity: '0.0100' });
    await own;
    expect(after.items).toEqual([]);
    // A subscription to an unknown pair is refused.
    // graphql-ws reports a refused subscription as a result with errors, then completes it.
    const bad = (await subscribe(ws, 'subscription { tradeExecuted(pairId: "NOPE-X") { pairId } }').next()) as any;
    expect(bad.errors[0]).toMatchObject({ message: expect.stringMatching(/not found/), extensions: { code: 'NOT_FOUND' } });
  });

  it('two instances matching crossing orders at once keep one book and exact money', async () => {
    const buyers = await Promise.all(Array.from({ length: 6 }, () => user([['USD', '100000.00']])));
    const sellers = await Promise.all(Array.from({ length: 6 }, () => user([['BTC', '10']])));
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 16807) % 2147483647;
      return seed % n;
    };
    const jobs: Promise<any>[] = [];
    for (let i = 0; i < 60; i++) {
      const buy = i % 2 === 0;
      const u = buy ? buyers[rnd(buyers.length)] : sellers[rnd(sellers.length)];
      const price = `${30000 + (rnd(21) - 10) * 10}.00`; // 29900..30100: the sides overlap and cross
      const quantity = `0.0${1 + rnd(9)}00`;
      const market = rnd(10) === 0;
      const body = market ? { pairId: 'BTC-USD', side: buy ? 'buy' : 'sell', type: 'market', quantity } : { pairId: 'BTC-USD', side: buy ? 'buy' : 'sell', type: 'limit', price, quantity };
      jobs.push(place(u, body, i % 4 < 2 ? a : b).then((r) => r));
    }
    const results = await Promise.all(jobs);
    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);

    // One book, seen identically by both instances, never crossed.
    const [bookA, bookB] = await Promise.all([book('BTC-USD', a), book('BTC-USD', b)]);
    expect(bookB).toEqual(bookA);
    if (bookA.bids.length && bookA.asks.length) expect(Number(bookA.bids[0][0])).toBeLessThan(Number(bookA.asks[0][0]));
    // Both instances matched, so each caught its replica up with the other's writes.
    const stats = [a, b].map((t) => t.app.get(BookCacheService).stats);
    expect(stats[0].catchUps + stats[1].catchUps).toBeGreaterThan(0);

    // Every fill has its trade, every trade its two orders, and the orders add up.
    const ids = results.map((r) => r.body.id);
    const [sums] = await ds.query(
      `SELECT (SELECT COALESCE(sum(filled_quantity) FILTER (WHERE side = 'buy'), 0)::text FROM trading_orders WHERE id = ANY($1)) AS buys,
              (SELECT COALESCE(sum(filled_quantity) FILTER (WHERE side = 'sell'), 0)::text FROM trading_orders WHERE id = ANY($1)) AS sells,
              (SELECT COALESCE(sum(quantity), 0)::text FROM trading_trades WHERE taker_order_id = ANY($1)) AS traded`,
      [ids],
    );
    expect(sums.buys).toBe(sums.sells);
    expect(sums.buys).toBe(sums.traded);
    // What is held is exactly what the resting orders still need (their holds' remainders).
    const [held] = await ds.query(
      `SELECT (SELECT COALESCE(sum(held), 0)::text FROM ledger_accounts WHERE user_id = ANY($1)) AS held,
              (SELECT COALESCE(sum(h.remaining), 0)::text FROM trading_orders o JOIN ledger_holds h ON h.id = o.hold_id
                WHERE o.id = ANY($2) AND o.status IN ('open','partially_filled') AND h.status = 'pending') AS needed`,
      [[...buyers, ...sellers].map((u) => u.id), ids],
    );
    expect(held.held).toBe(held.needed);

    // Money is conserved: cancel everything, nothing stays held, totals equal the deposits.
    for (const u of [...buyers, ...sellers]) {
      const open = await http(a).get('/api/trading/orders?status=open,partially_filled&limit=200').set('authorization', `Bearer ${u.token}`).expect(200);
      await Promise.all(open.body.items.map((o: any) => cancel(u, o.id, Math.random() < 0.5 ? a : b).expect(200)));
    }
    const totals = await ds.query(
      `SELECT asset, sum(posted)::text AS total, sum(held)::text AS held FROM ledger_accounts WHERE user_id = ANY($1) GROUP BY asset ORDER BY asset`,
      [[...buyers, ...sellers].map((u) => u.id)],
    );
    expect(totals).toEqual([
      { asset: 'BTC', total: String(6 * 10 * 1e8), held: '0' },
      { asset: 'USD', total: String(6 * 100000 * 100), held: '0' },
    ]);
    expect((await book('BTC-USD')).bids).toEqual([]);
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
  });

  it('group-commits concurrent placements of a pair; an unfunded order among them fails alone', async () => {
    const rich = await Promise.all(Array.from({ length: 4 }, () => user([['USD', '10000.00'], ['ETH', '10']])));
    const poor = await user([['USD', '1.00']]);
    const trading = a.app.get(PairWriter);
    const before = { ...trading.batchStats };
    const jobs: Promise<any>[] = [];
    for (let i = 0; i < 24; i++) {
      const u = rich[i % rich.length];
      const side = i % 2 ? 'sell' : 'buy';
      jobs.push(place(u, { pairId: 'ETH-USD', side, type: 'limit', price: `${2000 + (i % 5)}.00`, quantity: '0.100' }));
      if (i % 6 === 0) jobs.push(place(poor, { pairId: 'ETH-USD', side: 'buy', type: 'limit', price: '2000.00', quantity: '0.100' }));
    }
    const res = await Promise.all(jobs);
    const statuses = res.map((r) => r.status);
    expect(statuses.filter((x) => x === 201)).toHaveLength(24);
    expect(statuses.filter((x) => x === 422)).toHaveLength(4);
    expect(trading.batchStats.batches).toBeGreaterThan(before.batches);
    expect(trading.batchStats.fallbacks).toBe(before.fallbacks);
    expect(await bal(poor, 'USD')).toBe('1.00/0.00');
    // Every book sequence was used once, in order: the book's sequence moved by one per change.
    const seqs = (await ds.query(`SELECT DISTINCT book_seq FROM trading_trades WHERE pair_id = 'ETH-USD' ORDER BY 1`)).map((r: any) => Number(r.book_seq));
    expect(new Set(seqs).size).toBe(seqs.length);
    const bk = await book('ETH-USD');
    if (bk.bids.length && bk.asks.length) expect(Number(bk.bids[0][0])).toBeLessThan(Number(bk.asks[0][0]));
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
  });

  it('pairs that settle the same accounts at once, on two instances, never deadlock', async () => {
    const traders = await Promise.all(Array.from({ length: 6 }, () => user([['USD', '100000.00'], ['USDT', '100000'], ['BTC', '10'], ['ETH', '100']])));
    const trading = [a, b].map((t) => t.app.get(PairWriter));
    const before = trading.map((x) => ({ ...x.batchStats }));
    const pairs = [
      { pairId: 'BTC-USD', price: (k: number) => `${30000 + k}.00`, quantity: '0.0100' },
      { pairId: 'ETH-USD', price: (k: number) => `${2000 + k}.00`, quantity: '0.100' },
      { pairId: 'BTC-USDT', price: (k: number) => `${30000 + k}.00`, quantity: '0.01000' },
      { pairId: 'ETH-BTC', price: (k: number) => `0.0${5000 + k}`, quantity: '0.1000' },
    ];
    const jobs: Promise<any>[] = [];
    for (let i = 0; i < 96; i++) {
      const p = pairs[i % 4];
      const side = Math.floor(i / 4) % 2 ? 'sell' : 'buy';
      jobs.push(place(traders[(i * 7) % traders.length], { pairId: p.pairId, side, type: 'limit', price: p.price((i * 13) % 5), quantity: p.quantity }, i % 3 ? a : b));
    }
    const res = await Promise.all(jobs);
    expect(res.map((r) => r.status).filter((x) => x !== 201)).toEqual([]);
    expect(res.filter((r) => r.body.filledQuantity !== r.body.quantity.replace(/[1-9]/g, '0')).length).toBeGreaterThan(0); // some traded
    const after = trading.map((x) => x.batchStats);
    // No transaction was chosen as a deadlock victim (a retry), and no batch had to be undone.
    expect(after.map((x, i) => [x.retries - before[i].retries, x.fallbacks - before[i].fallbacks])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
  });

  it('replays an order placed with the same Idempotency-Key or clientOrderId, moving nothing twice', async () => {
    const u = await user([['USD', '1000.00']]);
    const body = { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '20000.00', quantity: '0.0100' };
    const first = await place(u, body).set('idempotency-key', 'order-1').expect(201);
    const again = await http(a).post('/api/trading/orders').set('authorization', `Bearer ${u.token}`).set('idempotency-key', 'order-1').send(body).expect(201);
    expect(again.body.id).toBe(first.body.id);
    await http(a).post('/api/trading/orders').set('authorization', `Bearer ${u.token}`).set('idempotency-key', 'order-1').send({ ...body, quantity: '0.0200' }).expect(409);
    const c1 = await placed(u, { ...body, clientOrderId: 'my-order-7' });
    const c2 = await placed(u, { ...body, clientOrderId: 'my-order-7' });
    expect(c2).toEqual(c1);
    await place(u, { ...body, price: '20001.00', clientOrderId: 'my-order-7' }).expect(409);
    expect(await bal(u, 'USD')).toBe('1000.00/400.00');
    // The same clientOrderId many times at once: one order, the others answer with it.
    const trading = a.app.get(PairWriter);
    const fallbacks = trading.batchStats.fallbacks;
    const racing = await Promise.all([
      ...Array.from({ length: 5 }, () => place(u, { ...body, clientOrderId: 'race-1' })),
      ...Array.from({ length: 3 }, (_, i) => place(u, { ...body, price: `${19000 + i}.00`, quantity: '0.0010' })),
    ]);
    expect(racing.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(racing.slice(0, 5).map((r) => r.body.id)).size).toBe(1);
    // 400.00 + 200.00 (race-1, once) + 3 × 19.00 (0.001 × 19000.00, 19001.00, 19002.00, each rounded down to the cent)
    expect(await bal(u, 'USD')).toBe('1000.00/657.00');
    expect(trading.batchStats.fallbacks).toBeGreaterThanOrEqual(fallbacks);
  });

  it('places, reads and cancels orders over GraphQL', async () => {
    const u = await user([['BTC', '0.5']]);
    const res = await gql(
      a,
      `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status side price quantity remainingQuantity } }`,
      { i: { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '90000.00', quantity: '0.1000' } },
      u.token,
    ).expect(200);
    const o = res.body.data.placeOrder;
    expect(o).toMatchObject({ status: 'open', side: 'sell', price: '90000.00', remainingQuantity: '0.10000000' });
    const q = await gql(a, `query($id: ID!) { order(orderId: $id) { id status } myOrders(status: "open") { items { id } } orderBook(pairId: "BTC-USD") { asks } tradingPair(pairId: "BTC-USD") { id tickSize } }`, { id: o.id }, u.token).expect(200);
    expect(q.body.data.order).toEqual({ id: o.id, status: 'open' });
    expect(q.body.data.myOrders.items).toEqual([{ id: o.id }]);
    expect(q.body.data.orderBook.asks).toEqual([['90000.00', '0.10000000']]);
    const bad = await gql(a, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`, { i: { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '90000.005', quantity: '0.1000' } }, u.token);
    expect(bad.body.errors[0]).toMatchObject({ message: expect.stringMatching(/price/), extensions: { code: 'BAD_REQUEST' } });
    const c = await gql(a, `mutation($id: ID!) { cancelOrder(orderId: $id) { status } }`, { id: o.id }, u.token).expect(200);
    expect(c.body.data.cancelOrder).toEqual({ status: 'cancelled' });
    expect(await bal(u, 'BTC')).toBe('0.50000000/0.00000000');
  });

  it('expires a GTD order with its delayed job and releases the hold', async () => {
    const u = await user([['USD', '100.00']]);
    const sock = await connectSocket(a, u.token);
    const expiresAt = new Date(Date.now() + 2500).toISOString();
    const o = await placed(u, { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '5000.00', quantity: '0.0100', timeInForce: 'GTD', expiresAt });
    expect(o).toMatchObject({ status: 'open', timeInForce: 'GTD', expiresAt });
    expect(await bal(u, 'USD')).toBe('100.00/50.00');
    const ev = await nextEvent(sock, 'order_update', (p: any) => p.orderId === o.id && p.status === 'cancelled', 10_000);
    expect(ev.data).toMatchObject({ cancelReason: 'expired' });
    expect(await bal(u, 'USD')).toBe('100.00/0.00');
    await place(u, { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '5000.00', quantity: '0.0100', timeInForce: 'GTD' }).expect(400);
    await place(u, { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '5000.00', quantity: '0.0100', expiresAt, timeInForce: 'GTC' }).expect(400);
  });
});
