import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueEvents } from 'bullmq';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, connectSocket, emitAck, gqlWs, http, loginAdmin, nextEvent, registerUser, subscribe, TestUser, waitForGqlSubscriber } from './harness/clients';
import { RedisService } from '../src/core/redis/redis.service';
import { JobsService } from '../src/core/queue/jobs.service';
import { CoinGeckoProvider } from '../src/modules/prices/providers/coingecko.provider';
import { CoinMarketCapProvider } from '../src/modules/prices/providers/coinmarketcap.provider';
import { ProviderError } from '../src/modules/prices/providers/price-provider';

interface Recorded {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Raw body text: numbers written exactly as the provider writes them. */
  body: string;
  delayMs?: number;
}

/** A local stand-in for a provider: records every request and answers with `reply()`. */
async function fakeProvider(reply: (r: Recorded) => Reply) {
  const requests: Recorded[] = [];
  const state = { reply };
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://fake');
    const rec = { path: u.pathname, query: u.searchParams, headers: req.headers };
    requests.push(rec);
    const r = state.reply(rec);
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
      res.end(r.body);
    };
    if (r.delayMs) setTimeout(send, r.delayMs).unref();
    else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    set(fn: (r: Recorded) => Reply) {
      state.reply = fn;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// Each provider's documented answer shape, with our numbers.
const coingecko = (btc: string, eth = '3500.12', usdt = '1.0002') =>
  `{"bitcoin":{"usd":${btc},"usd_24h_change":1.2345678,"last_updated_at":1735689600},"ethereum":{"usd":${eth},"usd_24h_change":-0.5,"last_updated_at":1735689600},"tether":{"usd":${usdt},"usd_24h_change":0.01,"last_updated_at":1735689600}}`;
const cmc = (btc: string) =>
  `{"status":{"timestamp":"2025-01-01T00:00:00.000Z","error_code":0,"error_message":null,"elapsed":10,"credit_count":1,"notice":null},` +
  `"data":{"BTC":{"id":1,"name":"Bitcoin","symbol":"BTC","quote":{"USD":{"price":${btc},"volume_24h":1.5e10,"percent_change_1h":0.1,"percent_change_24h":1.3,"last_updated":"2025-01-01T00:00:00.000Z"}}},` +
  `"ETH":{"id":1027,"name":"Ethereum","symbol":"ETH","quote":{"USD":{"price":3501.0,"percent_change_24h":-0.4,"last_updated":"2025-01-01T00:00:00.000Z"}}},` +
  `"USDT":{"id":825,"name":"Tether USDt","symbol":"USDT","quote":{"USD":{"price":1.0001,"percent_change_24h":0.0,"last_updated":"2025-01-01T00:00:00.000Z"}}}}}`;
const binance = (btc: string) =>
  JSON.stringify([
    { symbol: 'BTCUSDT', priceChange: '800.00000000', priceChangePercent: '1.210', weightedAvgPrice: '66900.1', lastPrice: btc, lastQty: '0.01', openPrice: '66220.00000000', highPrice: '67500.00', lowPrice: '66000.00', volume: '12345.6', quoteVolume: '826000000.0', openTime: 1735603200000, closeTime: 1735689600000, firstId: 1, lastId: 2, count: 2 },
    { symbol: 'ETHUSDT', priceChange: '-10.00000000', priceChangePercent: '-0.300', lastPrice: '3499.50000000', openTime: 1735603200000, closeTime: 1735689600000 },
  ]);

describe('prices: provider adapters against local fakes, aggregation, cache and live updates', () => {
  let t: TestApp;
  let admin: TestUser;
  let cg: Awaited<ReturnType<typeof fakeProvider>>;
  let cm: Awaited<ReturnType<typeof fakeProvider>>;
  let bn: Awaited<ReturnType<typeof fakeProvider>>;

  const refresh = async () => (await http(t).post('/api/admin/prices/refresh').set('authorization', `Bearer ${admin.token}`).expect(200)).body;
  const statusOf = (r: any, name: string) => r.providers.find((p: any) => p.provider === name);
  /** Forget backoff and rate-limit state, then refresh once every provider answered. */
  const freshRound = async () => {
    const redis = t.app.get(RedisService);
    const keys = await redis.client.keys(redis.key('prices', '*'));
    const control = keys.filter((k) => /:prices:(backoff|rl):/.test(k));
    if (control.length) await redis.client.del(...control);
    const r = await refresh();
    expect(r.providers.map((p: any) => [p.provider, p.status])).toEqual([
      ['coingecko', 'ok'],
      ['coinmarketcap', 'ok'],
      ['binance', 'ok'],
      ['internal', 'ok'],
    ]);
    return r;
  };

  beforeAll(async () => {
    cg = await fakeProvider(() => ({ body: coingecko('67000.10') }));
    cm = await fakeProvider(() => ({ body: cmc('67010.00') }));
    bn = await fakeProvider(() => ({ body: binance('67020.00000000'), headers: { 'x-mbx-used-weight-1m': '4' } }));
    t = await startTestApp({
      env: {
        PRICE_PROVIDERS: 'coingecko,coinmarketcap,binance,internal',
        COINGECKO_API_KEY: 'cg-demo-key',
        COINMARKETCAP_API_KEY: 'cmc-key',
        BINANCE_API_KEY: 'bn-key',
        COINGECKO_BASE_URL: `${cg.url}/api/v3`,
        COINMARKETCAP_BASE_URL: cm.url,
        BINANCE_BASE_URL: bn.url,
        PRICE_REFRESH_SECONDS: '3600',
        PRICE_REQUEST_TIMEOUT_MS: '400',
        PRICE_MIN_REQUEST_INTERVAL_MS: '0',
      },
    });
    admin = await loginAdmin(t);
  });
  afterAll(async () => {
    await closeClients();
    await t?.close();
    await Promise.all([cg, cm, bn].map((f) => f?.close()));
  });

  it('sends each provider its documented request and serves the cached price with source and updatedAt', async () => {
    await freshRound();
    const g = cg.requests.at(-1)!;
    expect(g.path).toBe('/api/v3/simple/price');
    expect(Object.fromEntries(g.query)).toEqual({
      ids: 'bitcoin,ethereum,tether',
      vs_currencies: 'usd',
      include_24hr_change: 'true',
      include_last_updated_at: 'true',
      precision: 'full',
    });
    expect(g.headers['x-cg-demo-api-key']).toBe('cg-demo-key');
    const c = cm.requests.at(-1)!;
    expect([c.path, c.query.get('symbol'), c.query.get('convert'), c.headers['x-cmc_pro_api_key']]).toEqual([
      '/v1/cryptocurrency/quotes/latest',
      'BTC,ETH,USDT',
      'USD',
      'cmc-key',
    ]);
    const b = bn.requests.at(-1)!;
    expect([b.path, b.query.get('symbols'), b.headers['x-mbx-apikey']]).toEqual(['/api/v3/ticker/24hr', '["BTCUSDT","ETHUSDT"]', 'bn-key']);
    for (const r of [g, c, b]) expect(r.headers.accept).toBe('application/json');

    const btc = (await http(t).get('/api/crypto/prices/BTC').expect(200)).body;
    expect(btc).toEqual({
      symbol: 'BTC',
      price: '67000.10',
      currency: 'USD',
      change24h: '1.23',
      source: 'coingecko',
      updatedAt: '2025-01-01T00:00:00.000Z',
      sources: [
        { source: 'coingecko', price: '67000.10', change24h: '1.23', updatedAt: '2025-01-01T00:00:00.000Z' },
        { source: 'coinmarketcap', price: '67010.00', change24h: '1.30', updatedAt: '2025-01-01T00:00:00.000Z' },
        { source: 'binance', price: '67020.00', change24h: '1.21', updatedAt: '2025-01-01T00:00:00.000Z' },
      ],
      disagreement: false,
      spreadBps: 2,
    });
    // No token needed; symbols are case-insensitive; USDT comes from the two feeds that price it.
    expect((await http(t).get('/api/crypto/prices/eth').expect(200)).body).toMatchObject({ symbol: 'ETH', price: '3500.12', source: 'coingecko' });
    expect((await http(t).get('/api/crypto/prices/USDT').expect(200)).body.sources.map((s: any) => s.source)).toEqual(['coingecko', 'coinmarketcap']);
    await http(t).get('/api/crypto/prices/SOFT').expect(404);
    await http(t).get('/api/crypto/prices/NOPE').expect(404);
    const all = (await http(t).get('/api/crypto/prices?symbols=BTC,USD').expect(200)).body;
    expect(all.items.map((p: any) => [p.symbol, p.source])).toEqual([
      ['BTC', 'coingecko'],
      ['USD', 'fixed'],
    ]);
  });

  it('says so when sources disagree beyond the threshold and serves the median', async () => {
    bn.set(() => ({ body: binance('50000.00000000') }));
    try {
      await freshRound();
      const btc = (await http(t).get('/api/crypto/prices/BTC').expect(200)).body;
      expect(btc).toMatchObject({ price: '67000.10', source: 'median', disagreement: true });
      expect(btc.spreadBps).toBeGreaterThan(2500);
      // A lossless read: 17 significant digits survive (a double would round them).
      cg.set(() => ({ body: coingecko('67000.123456789012') }));
      bn.set(() => ({ body: binance('67000.12345678') }));
      await freshRound();
      const exact = (await http(t).get('/api/crypto/prices/BTC').expect(200)).body;
      expect(exact).toMatchObject({ price: '67000.12345679', source: 'coingecko', disagreement: false });
    } finally {
      cg.set(() => ({ body: coingecko('67000.10') }));
      bn.set(() => ({ body: binance('67020.00000000') }));
    }
  });

  it('backs off after failures, honours Retry-After, times out slow feeds, and keeps serving fresh quotes', async () => {
    await freshRound();
    cg.set(() => ({ status: 429, headers: { 'retry-after': '120' }, body: '{"status":{"error_code":429,"error_message":"You\'ve exceeded the Rate Limit."}}' }));
    bn.set(() => ({ body: binance('1.00000000'), delayMs: 1500 }));
    cm.set(() => ({ status: 401, body: '{"status":{"error_code":1002,"error_message":"API key missing."}}' }));
    try {
      const r1 = await refresh();
      expect(statusOf(r1, 'coingecko')).toMatchObject({ status: 'error', reason: expect.stringMatching(/rate limited/) });
      expect(statusOf(r1, 'coingecko').retryInMs).toBeGreaterThanOrEqual(119_000);
      expect(statusOf(r1, 'binance')).toMatchObject({ status: 'error', reason: expect.stringMatching(/no answer within 400 ms/) });
      expect(statusOf(r1, 'coinmarketcap')).toMatchObject({ status: 'error', reason: expect.stringMatching(/HTTP 401/) });
      const calls = cg.requests.length;
      const r2 = await refresh();
      expect(statusOf(r2, 'coingecko')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/backing off/) });
      expect(statusOf(r2, 'binance').status).toBe('skipped');
      expect(cg.requests.length).toBe(calls);
      // The last good quotes are still fresh: the price is still served, from them.
      expect((await http(t).get('/api/crypto/prices/BTC').expect(200)).body).toMatchObject({ price: '67000.10', source: 'coingecko' });
    } finally {
      cg.set(() => ({ body: coingecko('67000.10') }));
      bn.set(() => ({ body: binance('67020.00000000'), headers: { 'x-mbx-used-weight-1m': '4' } }));
      cm.set(() => ({ body: cmc('67010.00') }));
    }
    // Near Binance's weight limit: the answer is used, and the next call waits for the next minute.
    bn.set(() => ({ body: binance('67020.00000000'), headers: { 'x-mbx-used-weight-1m': '5900' } }));
    await freshRound();
    expect(statusOf(await refresh(), 'binance')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/backing off after: near the rate limit/) });
    bn.set(() => ({ body: binance('67020.00000000'), headers: { 'x-mbx-used-weight-1m': '4' } }));
  });

  it('pushes price_update to subscribed sockets and priceUpdated to GraphQL subscribers', async () => {
    await freshRound();
    const u = await registerUser(t);
    const s = await connectSocket(t, u.token);
    const ack = await emitAck(s, 'subscribe_prices', { symbols: ['btc', 'ETH'] });
    expect(ack).toMatchObject({ ok: true, data: { symbols: ['BTC', 'ETH'], prices: [{ symbol: 'BTC', price: '67000.10' }, { symbol: 'ETH' }] } });
    expect(await emitAck(s, 'subscribe_prices', { symbols: ['BTC', 'DOGE'] })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/DOGE/) } });
    expect(await emitAck(s, 'subscribe_prices', { symbols: 'BTC' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const sub = subscribe(gqlWs(t, u.token), 'subscription { priceUpdated(symbols: ["BTC"]) { symbol price change24h source } }');
    await waitForGqlSubscriber(t, 'price:BTC');

    const ev = nextEvent(s, 'price_update', (p: any) => p.symbol === 'BTC');
    cg.set(() => ({ body: coingecko('68000.00') }));
    cm.set(() => ({ body: cmc('68010.00') }));
    bn.set(() => ({ body: binance('68020.00') }));
    try {
      await freshRound();
      expect(await ev).toEqual({ symbol: 'BTC', price: '68000.00', change: '1.23', currency: 'USD', source: 'coingecko', updatedAt: '2025-01-01T00:00:00.000Z' });
      expect((await sub.next()).data.priceUpdated).toEqual({ symbol: 'BTC', price: '68000.00', change24h: '1.23', source: 'coingecko' });
      // Unsubscribed sockets hear nothing more.
      await emitAck(s, 'unsubscribe_prices', { symbols: ['BTC', 'ETH'] });
      const none = nextEvent(s, 'price_update', () => true, 600).then(
        () => 'received',
        () => 'nothing',
      );
      cg.set(() => ({ body: coingecko('69000.00') }));
      await freshRound();
      expect(await none).toBe('nothing');
    } finally {
      cg.set(() => ({ body: coingecko('67000.10') }));
      cm.set(() => ({ body: cmc('67010.00') }));
      bn.set(() => ({ body: binance('67020.00000000'), headers: { 'x-mbx-used-weight-1m': '4' } }));
    }
  });

  it('refreshes through the repeatable BullMQ job', async () => {
    const jobs = t.app.get(JobsService);
    const scheduler = await jobs.queue('prices').getJobScheduler('prices-refresh');
    expect(scheduler).toMatchObject({ every: 3_600_000, name: 'refresh' });
    const redis = t.app.get(RedisService);
    const control = (await redis.client.keys(redis.key('prices', '*'))).filter((k) => /:prices:(backoff|rl):/.test(k));
    if (control.length) await redis.client.del(...control);
    const before = cg.requests.length;
    const events = new QueueEvents('prices', { connection: { url: t.config.redis.url! } as never, prefix: jobs.prefix });
    try {
      const job = await jobs.add('prices', 'refresh', {});
      const result = await job.waitUntilFinished(events, 10_000);
      expect(result.providers.map((p: any) => p.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(cg.requests.length).toBe(before + 1);
    } finally {
      await events.close();
    }
  });

  it('adapters: CoinGecko Pro uses its own header; CoinMarketCap reads v2 arrays and reports its error codes', async () => {
    const pro = new CoinGeckoProvider({ baseUrl: `${cg.url}/api/v3`, apiKey: 'pro-key', plan: 'pro', timeoutMs: 1000, minIntervalMs: 0 });
    const got = await pro.fetchQuotes(['BTC', 'SOFT']);
    expect(got.quotes.map((q) => [q.symbol, q.price])).toEqual([['BTC', '67000.10']]);
    expect(cg.requests.at(-1)!.headers['x-cg-pro-api-key']).toBe('pro-key');
    expect(cg.requests.at(-1)!.query.get('ids')).toBe('bitcoin');

    const v2 = await fakeProvider(() => ({
      body: '{"status":{"error_code":0},"data":{"BTC":[{"symbol":"BTC","quote":{"USD":{"price":6.7e4,"percent_change_24h":2,"last_updated":"2025-01-01T00:00:00Z"}}}]}}',
    }));
    try {
      const a = new CoinMarketCapProvider({ baseUrl: v2.url, apiKey: 'k', timeoutMs: 1000, minIntervalMs: 0 });
      expect((await a.fetchQuotes(['BTC'])).quotes).toEqual([{ symbol: 'BTC', price: '67000.00', change24h: '2.00', updatedAt: '2025-01-01T00:00:00.000Z', source: 'coinmarketcap' }]);
      v2.set(() => ({ status: 429, body: '{"status":{"error_code":1008,"error_message":"You\'ve exceeded your API Key\'s HTTP request rate limit."}}' }));
      const err = await a.fetchQuotes(['BTC']).catch((e) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ status: 429, retryAfterMs: 60_000 });
    } finally {
      await v2.close();
    }
  });
});
