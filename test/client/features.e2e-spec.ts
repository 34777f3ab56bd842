/**
 * The P2P, Videos and Admin pages in a real browser against the real app: each page's main live
 * flow, with the other party acting through the API and the page following without a reload,
 * plus an axe scan of each page and (with SCREENSHOTS=true) a screenshot for docs/screenshots.
 */
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Page } from 'playwright-core';
import { verifyLedger } from '../../src/modules/ledger/ledger-verifier';
import { closeClients, connectSocket, emitAck, http, loginAdmin, registerUser, type TestUser } from '../harness/clients';
import { balanceOf, deposit } from '../harness/money';
import { axeCheck, openApp, shot, signInAs, waitConnected, type BrowserApp } from './harness';

jest.setTimeout(180_000);

let b: BrowserApp;
let page: Page;
let alice: TestUser; // in the browser
let bob: TestUser; // the other party, through the API
let carol: TestUser;
let creator: TestUser;
let admin: TestUser;

const auth = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });

beforeAll(async () => {
  b = await openApp();
  [alice, bob, carol] = [await registerUser(b.t), await registerUser(b.t), await registerUser(b.t)];
  creator = await registerUser(b.t, { role: 'creator' });
  admin = await loginAdmin(b.t);
  page = await b.newPage();
  await signInAs(page, b.url, alice);
  await waitConnected(page);
});

afterAll(async () => {
  try {
    if (b) {
      const results = await verifyLedger(b.t.app.get<DataSource>(getDataSourceToken()));
      expect(results.filter((r) => !r.ok)).toEqual([]);
    }
  } finally {
    await closeClients();
    await b?.close();
  }
});

async function sellOffer(seller: TestUser) {
  await deposit(b.t, admin, seller.id, 'BTC', '1');
  const res = await http(b.t)
    .post('/api/crypto/p2p/offers')
    .set(auth(seller))
    .send({ side: 'sell', asset: 'BTC', fiatCurrency: 'USD', price: '50000', minAmount: '0.001', maxAmount: '0.5', paymentMethods: ['SEPA'], paymentWindowSeconds: 900 })
    .expect(201);
  return res.body as { id: string };
}

test('P2P: take an offer, mark it paid; the seller releases through the API and the page follows live', async () => {
  await sellOffer(bob);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'P2P', exact: true }).click();
  await page.getByLabel('Asset filter').selectOption('BTC');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('button', { name: `Buy BTC from ${bob.username}` }).click();
  await axeCheck(page);
  await shot(page, 'p2p-offers');

  await page.getByLabel('Amount (BTC)').fill('0.01');
  await page.getByText('≈ 500.00').waitFor();
  await page.getByRole('button', { name: 'Open trade' }).click();
  await page.waitForURL(/\/p2p\/trades\/[0-9a-f-]{36}$/);
  const escrowId = page.url().split('/').pop()!;
  const status = page.getByTestId('escrow-status');
  await status.filter({ hasText: 'Awaiting payment' }).waitFor();
  await page.getByText('Payment window closes in').waitFor();

  // Bob writes in the trade chat through the API: it appears live.
  const escrow = (await http(b.t).get(`/api/crypto/p2p/escrow/${escrowId}`).set(auth(bob)).expect(200)).body;
  expect(escrow.status).toBe('awaiting_payment');
  await http(b.t).post(`/api/chat/rooms/${escrow.chatRoomId}/messages`).set(auth(bob)).send({ content: 'IBAN DE00 1234' }).expect(201);
  await page.getByRole('list', { name: 'Trade messages' }).getByText('IBAN DE00 1234').waitFor();

  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Mark as paid' }).click();
  await status.filter({ hasText: 'Paid, awaiting release' }).waitFor();
  await page.getByText('Release window closes in').waitFor();
  await axeCheck(page);
  await shot(page, 'p2p-trade');

  await http(b.t).post(`/api/crypto/p2p/escrow/${escrowId}/release`).set(auth(bob)).expect(200);
  await status.filter({ hasText: 'Released' }).waitFor();
  await page.getByRole('listitem').filter({ hasText: 'Crypto released to the buyer' }).waitFor();
  expect((await balanceOf(b.t, alice, 'BTC')).available).toMatch(/^0\.010*$/);
});

test('P2P: post an offer through the form, see it in the book, and close it', async () => {
  await page.getByRole('link', { name: 'Back to offers' }).click();
  await page.getByLabel('Price per unit').fill('51000');
  await page.getByLabel('Minimum amount').fill('0.001');
  await page.getByLabel('Maximum amount').fill('0.005');
  await page.getByLabel('Payment methods').fill('SEPA, Revolut');
  await page.getByRole('button', { name: 'Post offer' }).click();
  const mine = page.getByRole('list', { name: 'Offers' }).getByRole('listitem').filter({ hasText: 'Your offer' });
  await mine.filter({ hasText: '51,000' }).waitFor();
  const listed = (await http(b.t).get('/api/crypto/p2p/offers').query({ userId: alice.id }).set(auth(bob)).expect(200)).body;
  expect(listed.items).toHaveLength(1);
  expect(listed.items[0]).toMatchObject({ side: 'sell', asset: 'BTC', fiatCurrency: 'USD', paymentMethods: ['SEPA', 'Revolut'], paymentWindowSeconds: 900 });

  page.once('dialog', (d) => void d.accept());
  await mine.getByRole('button', { name: 'Close offer' }).click();
  await mine.waitFor({ state: 'detached' });
  const closed = (await http(b.t).get(`/api/crypto/p2p/offers/${listed.items[0].id}`).set(auth(bob)).expect(200)).body;
  expect(closed.status).toBe('closed');
});

test('P2P: the offer book follows the market live: another user posts, reprices and closes an offer', async () => {
  const book = page.getByRole('list', { name: 'Offers' });
  await page.getByRole('heading', { name: 'Offers' }).waitFor();
  const body = { side: 'buy', asset: 'ETH', fiatCurrency: 'EUR', price: '2345.67', minAmount: '0.1', maxAmount: '2', paymentMethods: ['Wise'], paymentWindowSeconds: 900 };
  const o = (await http(b.t).post('/api/crypto/p2p/offers').set(auth(carol)).send(body).expect(201)).body as { id: string };
  const row = book.getByRole('listitem').filter({ hasText: carol.username });
  await row.filter({ hasText: '2,345.67' }).waitFor({ timeout: 10_000 });
  await http(b.t).patch(`/api/crypto/p2p/offers/${o.id}`).set(auth(carol)).send({ price: '2400' }).expect(200);
  await row.filter({ hasText: '2,400' }).waitFor({ timeout: 10_000 });
  await http(b.t).patch(`/api/crypto/p2p/offers/${o.id}`).set(auth(carol)).send({ status: 'closed' }).expect(200);
  await row.waitFor({ state: 'detached', timeout: 10_000 });
});

test('Videos: the player starts a watch session, shows the live viewer count and claims a milestone', async () => {
  const video = (
    await http(b.t)
      .post('/api/videos')
      .set(auth(creator))
      .send({ title: 'E2E clip', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', durationSeconds: 3, milestones: [{ percent: 50, reward: '0.1' }] })
      .expect(201)
  ).body as { id: string };

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Videos', exact: true }).click();
  await page.getByRole('link', { name: 'E2E clip' }).waitFor();
  await axeCheck(page);
  await shot(page, 'videos');

  const started = page.waitForResponse((r) => r.url().endsWith(`/api/videos/${video.id}/sessions`) && r.request().method() === 'POST');
  await page.getByRole('link', { name: 'E2E clip' }).click();
  expect((await started).status()).toBe(201);
  const viewers = page.getByTestId('viewer-count');
  await viewers.filter({ hasText: '1 watching now' }).waitFor();

  // Bob opens the same video elsewhere: the count follows live.
  const socket = await connectSocket(b.t, bob.token);
  await emitAck(socket, 'join_video', { videoId: video.id });
  await viewers.filter({ hasText: '2 watching now' }).waitFor();

  // The embedded player: the viewer says when they watch; heartbeats prove it; the milestone is claimed.
  await page.getByRole('button', { name: 'Start watching' }).click();
  await page.getByRole('list', { name: 'Rewards this session' }).getByText(/50% watched: /).waitFor({ timeout: 30_000 });
  // The payout goes through the queue; rewardEarned announces it with a toast.
  await page.getByText(/Reward earned: 0\.10* SOFT \(watch milestone\)/).waitFor({ timeout: 30_000 });
  await axeCheck(page, { exclude: ['iframe'] });
  await shot(page, 'video-player');

  socket.disconnect();
  await viewers.filter({ hasText: '1 watching now' }).waitFor({ timeout: 30_000 });
});

test('Videos: a pre-roll ad plays at its slot before the content, and is claimed once watched', async () => {
  const video = (
    await http(b.t)
      .post('/api/videos')
      .set(auth(creator))
      .send({ title: 'E2E ad clip', url: 'https://vimeo.com/76979871', durationSeconds: 2, ads: [{ position: 'pre', durationSeconds: 5, reward: '0.2' }] })
      .expect(201)
  ).body as { id: string };
  await page.goto(`${b.url}/videos/${video.id}`);
  await page.getByText('Session active').waitFor();
  await page.getByRole('button', { name: 'Start watching' }).click();
  const ad = page.getByRole('dialog', { name: 'Advertisement' });
  await ad.waitFor();
  await shot(page, 'video-ad');
  await page.getByRole('list', { name: 'Rewards this session' }).getByText(/ad watched: /).waitFor({ timeout: 30_000 });
  await ad.waitFor({ state: 'detached' });
  // The content plays after the ad.
  await page.getByRole('button', { name: 'Pause watching' }).waitFor();
});

/** The few browser APIs the clip recorder uses (the test project compiles without the DOM library). */
interface RecorderWindow {
  document: { createElement(tag: 'canvas'): { width: number; height: number; getContext(k: '2d'): { fillStyle: string; fillRect(x: number, y: number, w: number, h: number): void }; captureStream(fps: number): unknown } };
  MediaRecorder: new (stream: unknown, opts: { mimeType: string }) => { start(ms: number): void; stop(): void; ondataavailable: (e: { data: unknown }) => void; onstop: () => void };
  Blob: new (parts: unknown[]) => { arrayBuffer(): Promise<ArrayBuffer> };
  btoa(s: string): string;
}
interface VideoElement {
  muted: boolean;
  paused: boolean;
  play(): Promise<void>;
}

/** A short clip recorded in the browser itself (no media files or encoders on the test machine). */
async function recordClip(p: Page, seconds: number, mimeType = 'video/webm'): Promise<Buffer> {
  const b64 = await p.evaluate(async ({ ms, mimeType }) => {
    const w = globalThis as unknown as RecorderWindow;
    const canvas = w.document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 36;
    const ctx = canvas.getContext('2d');
    let i = 0;
    const paint = setInterval(() => {
      ctx.fillStyle = i++ % 2 ? '#c33' : '#33c';
      ctx.fillRect(0, 0, 64, 36);
    }, 50);
    const rec = new w.MediaRecorder(canvas.captureStream(20), { mimeType });
    const chunks: unknown[] = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise<void>((r) => (rec.onstop = r));
    rec.start(250);
    await new Promise((r) => setTimeout(r, ms));
    rec.stop();
    await stopped;
    clearInterval(paint);
    const bytes = new Uint8Array(await new w.Blob(chunks).arrayBuffer());
    let text = '';
    for (let k = 0; k < bytes.length; k += 0x8000) text += String.fromCharCode(...bytes.subarray(k, k + 0x8000));
    return w.btoa(text);
  }, { ms: seconds * 1000, mimeType });
  return Buffer.from(b64, 'base64');
}

/**
 * A fragmented MP4 cut at its top-level boxes into an HLS fMP4 rendition: the init section
 * (everything before the first `moof`) and one media segment (the fragments).
 */
function fmp4ToHls(mp4: Buffer): { init: Buffer; segment: Buffer } {
  let at = 0;
  while (at + 8 <= mp4.length) {
    const size = mp4.readUInt32BE(at);
    const type = mp4.toString('latin1', at + 4, at + 8);
    if (type === 'moof') return { init: mp4.subarray(0, at), segment: mp4.subarray(at) };
    if (size < 8) break;
    at += size;
  }
  throw new Error('not a fragmented MP4 (no moof box)');
}

test('Videos: the HTML5 player plays the pre-roll first, then the content, and claims the ad and the milestone', async () => {
  const clip = await recordClip(page, 3);
  const url = 'https://media.example.test/e2e-clip.webm';
  await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'video/webm', body: clip }));
  const video = (
    await http(b.t)
      .post('/api/videos')
      .set(auth(creator))
      .send({ title: 'E2E file clip', url, durationSeconds: 2, ads: [{ position: 'pre', durationSeconds: 5, reward: '0.2' }], milestones: [{ percent: 50, reward: '0.1' }] })
      .expect(201)
  ).body as { id: string };
  await page.goto(`${b.url}/videos/${video.id}`);
  await page.getByText('Session active').waitFor();
  const player = page.getByLabel('Video: E2E file clip');
  await player.evaluate((v: VideoElement) => {
    v.muted = true; // muted playback needs no user gesture in a headless browser
    return v.play().catch(() => undefined);
  });
  const ad = page.getByRole('dialog', { name: 'Advertisement' });
  await ad.waitFor();
  expect(await player.evaluate((v: VideoElement) => v.paused)).toBe(true);
  const rewards = page.getByRole('list', { name: 'Rewards this session' });
  await rewards.getByText(/ad watched: /).waitFor({ timeout: 30_000 });
  await ad.waitFor({ state: 'detached' });
  await rewards.getByText(/50% watched: /).waitFor({ timeout: 30_000 });
  await axeCheck(page);
});

test('Videos: an HLS stream plays through hls.js (Media Source Extensions), fetching its playlist and segments', async () => {
  const { init, segment } = fmp4ToHls(await recordClip(page, 3, 'video/mp4;codecs=avc1'));
  const base = 'https://media.example.test/e2e-hls';
  const playlist = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:4', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-MAP:URI="init.mp4"', '#EXTINF:3.0,', 'seg0.m4s', '#EXT-X-ENDLIST', ''].join('\n');
  const fetched: string[] = [];
  const cors = { 'access-control-allow-origin': '*' };
  await page.route(`${base}/**`, (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    fetched.push(name);
    if (name === 'stream.m3u8') return route.fulfill({ status: 200, contentType: 'application/vnd.apple.mpegurl', headers: cors, body: playlist });
    if (name === 'init.mp4') return route.fulfill({ status: 200, contentType: 'video/mp4', headers: cors, body: init });
    if (name === 'seg0.m4s') return route.fulfill({ status: 200, contentType: 'video/iso.segment', headers: cors, body: segment });
    return route.fulfill({ status: 404, headers: cors, body: '' });
  });
  const video = (
    await http(b.t).post('/api/videos').set(auth(creator)).send({ title: 'E2E HLS clip', url: `${base}/stream.m3u8`, durationSeconds: 3 }).expect(201)
  ).body as { id: string };
  await page.goto(`${b.url}/videos/${video.id}`);
  await page.getByText('Session active').waitFor();
  const player = page.getByLabel('Video: E2E HLS clip');
  // Where Media Source Extensions exist (every desktop browser) the page loads hls.js and plays the stream through them.
  await page.locator('video[data-stream="hls.js"]').waitFor();
  await player.evaluate((v: VideoElement) => {
    v.muted = true;
    return v.play().catch(() => undefined);
  });
  // Playing for real: the clock moves past the first second of the stream's only segment.
  await page.waitForFunction(
    () => ((globalThis as unknown as { document: { querySelector(s: string): { currentTime: number } | null } }).document.querySelector('video')?.currentTime ?? 0) > 1,
    undefined,
    { timeout: 30_000 },
  );
  expect(await player.evaluate((v: VideoElement & { currentSrc: string }) => v.currentSrc)).toMatch(/^blob:/);
  expect(fetched).toEqual(expect.arrayContaining(['stream.m3u8', 'init.mp4', 'seg0.m4s']));
  await expect(page.getByText('cannot play', { exact: false }).count()).resolves.toBe(0);
  await expect(page.getByRole('alert').filter({ hasText: 'stream' }).count()).resolves.toBe(0);
  await page.unroute(`${base}/**`);
});

test('Videos: an HLS stream that cannot be loaded says so instead of a silent black box', async () => {
  const url = 'https://media.example.test/e2e-hls-missing/stream.m3u8';
  await page.route(url, (route) => route.fulfill({ status: 404, headers: { 'access-control-allow-origin': '*' }, body: 'not found' }));
  const video = (await http(b.t).post('/api/videos').set(auth(creator)).send({ title: 'E2E missing stream', url, durationSeconds: 3 }).expect(201)).body as { id: string };
  await page.goto(`${b.url}/videos/${video.id}`);
  await page.getByRole('alert').filter({ hasText: 'The stream could not be loaded.' }).waitFor({ timeout: 30_000 });
  await page.unroute(url);
});

test('Admin: the rules editor saves, a notification is sent, and a dispute is resolved from the queue', async () => {
  // A disputed trade between Bob (seller) and Carol (buyer), all through the API.
  const offer = await sellOffer(bob);
  const esc = (await http(b.t).post(`/api/crypto/p2p/offers/${offer.id}/accept`).set(auth(carol)).send({ amount: '0.02' }).expect(201)).body;
  await http(b.t).post(`/api/crypto/p2p/escrow/${esc.id}/confirm`).set(auth(carol)).expect(200);
  await http(b.t).post(`/api/crypto/p2p/escrow/${esc.id}/dispute`).set(auth(carol)).send({ reason: 'seller silent' }).expect(200);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signInAs(page, b.url, admin, '/admin');
  await page.goto(b.url + '/admin');
  await page.getByRole('heading', { name: 'Reward rules' }).waitFor();
  await page.getByRole('link', { name: 'Queue dashboard' }).waitFor();

  await page.getByLabel('Daily cap for ad view').fill('7');
  await page.getByRole('button', { name: 'Save ad view' }).click();
  await page.getByText('Saved the ad view rule').waitFor();
  const rules = (await http(b.t).get('/api/rewards/rules').expect(200)).body as { action: string; dailyCap: number }[];
  expect(rules.find((r) => r.action === 'ad_view')?.dailyCap).toBe(7);

  await page.getByLabel('Recipient user ids').fill(alice.id);
  await page.getByLabel('Notification title').fill('Maintenance tonight');
  await page.getByLabel('Notification body').fill('From 22:00 UTC');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByText('Notification sent').waitFor();
  const inbox = (await http(b.t).get(`/api/notifications/${alice.id}`).set(auth(alice)).expect(200)).body;
  expect(inbox.items.map((n: { title: string }) => n.title)).toContain('Maintenance tonight');

  const short = esc.id.slice(0, 8);
  await page.getByText('seller silent').waitFor();
  await axeCheck(page);
  await shot(page, 'admin');
  await page.getByLabel(`Resolution note for trade ${short}`).fill('Payment proof checked');
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Release to buyer' }).click();
  await page.getByText(`Trade ${short} resolved: release`).waitFor();
  const after = (await http(b.t).get(`/api/crypto/p2p/escrow/${esc.id}`).set(auth(carol)).expect(200)).body;
  expect(after.status).toBe('released');
});
