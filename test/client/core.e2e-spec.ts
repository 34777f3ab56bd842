/**
 * The React client in a real browser against the real app: sign in by the form's labels, then each
 * core page's main live flow, with the change made by another user through the API and appearing
 * without a reload; and an axe scan of each page.
 */
import type { Page } from 'playwright-core';
import { http, loginAdmin, registerUser, type TestUser } from '../harness/clients';
import { deposit } from '../harness/money';
import { DataSource } from 'typeorm';
import { verifyLedger } from '../../src/modules/ledger/ledger-verifier';
import { axeCheck, openApp, shot, signInAs, waitConnected, type BrowserApp } from './harness';

jest.setTimeout(120_000);

let b: BrowserApp;
let page: Page;
let alice: TestUser; // the person in the browser
let bob: TestUser; // someone else, through the API
let admin: TestUser;

const auth = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });

beforeAll(async () => {
  b = await openApp();
  alice = await registerUser(b.t);
  bob = await registerUser(b.t);
  admin = await loginAdmin(b.t);
  page = await b.newPage();
});

afterAll(async () => {
  if (b) expect((await verifyLedger(b.t.app.get(DataSource))).filter((r) => !r.ok)).toEqual([]);
  await b?.close();
});

test('signs in by the labels Email and Password, and shows the username and the connection state', async () => {
  await page.goto(b.url + '/');
  await page.getByLabel('Email').waitFor();
  await axeCheck(page);
  await shot(page, 'sign-in');
  await signInAs(page, b.url, alice);
  await waitConnected(page);
  for (const name of ['Chat', 'Wallet', 'Trading', 'P2P', 'Videos', 'Creator', 'Battles']) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).waitFor();
  }
  await page.getByRole('link', { name: /Notifications \(0 unread\)/ }).waitFor();
});

test('chat: a message Bob posts through the API appears live, typing shows, Enter sends mine; after a drop, missed messages arrive in order', async () => {
  const room = await http(b.t).post('/api/chat/rooms').set(auth(bob)).send({ name: 'e2e-room' }).expect(201);
  const roomId = room.body.id as string;
  await http(b.t).post(`/api/chat/rooms/${roomId}/messages`).set(auth(bob)).send({ content: 'before alice' }).expect(201);
  await page.getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('button', { name: 'Refresh rooms' }).click();
  await page.getByRole('button', { name: 'Join e2e-room' }).click();
  await page.getByRole('log').getByText('before alice').waitFor();
  await waitConnected(page);

  await http(b.t).put(`/api/chat/rooms/${roomId}/users/${bob.id}/typing`).set(auth(bob)).send({ typing: true }).expect(204);
  await page.getByText(`${bob.username} is typing…`).waitFor();
  await http(b.t).post(`/api/chat/rooms/${roomId}/messages`).set(auth(bob)).send({ content: 'hello from bob' }).expect(201);
  await page.getByRole('log').getByText('hello from bob').waitFor();
  await page.getByText(`${bob.username} is typing…`).waitFor({ state: 'detached' });

  const composer = page.getByLabel('Message', { exact: true });
  await composer.fill('hi bob');
  await composer.press('Enter');
  await page.getByRole('log').getByText('hi bob').waitFor();
  const res = await http(b.t).get(`/api/chat/rooms/${roomId}/messages`).set(auth(bob)).expect(200);
  expect(res.body.items.map((m: { content: string }) => m.content)).toContain('hi bob');
  expect(await composer.inputValue()).toBe('');
  // The connection drops; Bob sends three messages meanwhile; back online they appear once each, in order.
  await page.context().setOffline(true);
  await page.getByRole('status').filter({ hasText: /Reconnecting|Connecting/ }).first().waitFor();
  for (const content of ['missed 1', 'missed 2', 'missed 3']) {
    await http(b.t).post(`/api/chat/rooms/${roomId}/messages`).set(auth(bob)).send({ content }).expect(201);
  }
  await page.context().setOffline(false);
  await page.getByRole('log').getByText('missed 3').waitFor();
  await waitConnected(page);
  const texts = await page.getByRole('log').locator('.msg .text').allTextContents();
  expect(texts).toEqual(['before alice', 'hello from bob', 'hi bob', 'missed 1', 'missed 2', 'missed 3']);
  const seqs = await page.getByRole('log').locator('.msg').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);

  await axeCheck(page);
  await shot(page, 'chat');
  // The same page on a phone: the navigation wraps, the room list stacks above the room.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByLabel('Message', { exact: true }).waitFor();
  await shot(page, 'chat-phone');
  await page.setViewportSize({ width: 1280, height: 860 });
});

test('chat: the public room list follows live: a room Bob creates appears, and its member count moves, without a refresh', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('heading', { name: 'Public rooms' }).waitFor();
  const room = (await http(b.t).post('/api/chat/rooms').set(auth(bob)).send({ name: 'e2e-live-room' }).expect(201)).body as { id: string };
  const row = page.getByRole('listitem').filter({ has: page.getByRole('button', { name: 'Join e2e-live-room' }) });
  await row.filter({ hasText: '1 members' }).waitFor({ timeout: 10_000 });
  await http(b.t).post(`/api/chat/rooms/${room.id}/join`).set(auth(admin)).expect(200);
  await row.filter({ hasText: '2 members' }).waitFor({ timeout: 10_000 });
});

test('notifications: one sent by an admin raises the live count; opening it reads it; read-all', async () => {
  await http(b.t).post('/api/notifications/send').set(auth(admin)).send({ userIds: [alice.id], type: 'system', title: 'Welcome aboard', body: 'first' }).expect(202);
  await page.getByRole('link', { name: /Notifications \(1 unread\)/ }).waitFor();
  await http(b.t).post('/api/notifications/send').set(auth(admin)).send({ userIds: [alice.id], type: 'system', title: 'Second one', body: 'second' }).expect(202);
  await page.getByRole('link', { name: /Notifications \(2 unread\)/ }).click();
  await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
  await page.getByRole('button', { name: /Welcome aboard/ }).click();
  await page.getByRole('link', { name: /Notifications \(1 unread\)/ }).waitFor();
  await axeCheck(page);
  await shot(page, 'notifications');
  await page.getByRole('button', { name: 'Mark all as read' }).click();
  await page.getByRole('link', { name: /Notifications \(0 unread\)/ }).waitFor();
  const res = await http(b.t).get(`/api/notifications/${alice.id}`).set(auth(alice)).expect(200);
  expect(res.body.unreadCount).toBe(0);
});

test('wallet: a transfer from Bob updates the balance live; my transfer goes through a confirmation step', async () => {
  await deposit(b.t, admin, bob.id, 'USD', '500.00');
  await page.getByRole('link', { name: 'Wallet', exact: true }).click();
  await page.getByRole('heading', { name: 'Balances' }).waitFor();
  await waitConnected(page);
  await http(b.t).post(`/api/wallet/${bob.id}/transfer`).set(auth(bob)).send({ toUserId: alice.id, asset: 'USD', amount: '123.45' }).expect(201);
  const usd = page.getByRole('listitem', { name: 'USD balance' });
  await usd.getByText('123.45').first().waitFor();
  await page.getByRole('table').getByText('+123.45').waitFor();

  // A user id is refused for myself; a username is looked up and shown on the review.
  await page.getByLabel('Recipient').fill(alice.id);
  await page.getByLabel('Amount', { exact: true }).fill('23.45');
  await page.getByRole('button', { name: 'Review transfer' }).click();
  await page.getByRole('alert').getByText('You cannot send money to yourself.').waitFor();
  await page.getByLabel('Recipient').fill(`@${bob.username.toUpperCase()}`);
  await page.getByRole('button', { name: 'Review transfer' }).click();
  await page.getByRole('heading', { name: 'Confirm transfer' }).waitFor();
  await page.getByText(bob.username, { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Confirm transfer' }).click();
  await usd.getByText('100.00').first().waitFor();
  const bal = await http(b.t).get(`/api/wallet/${alice.id}/balance`).set(auth(alice)).expect(200);
  expect(bal.body.balances.find((x: { asset: string }) => x.asset === 'USD').total).toBe('100.00');
  await page.getByRole('img', { name: /QR code of the BTC deposit address/ }).waitFor();
  await axeCheck(page);
  await shot(page, 'wallet');
});

test('trading: an order Bob places through the API shows in the book live; I place and cancel my own', async () => {
  await deposit(b.t, admin, bob.id, 'BTC', '1');
  await page.getByRole('link', { name: 'Trading', exact: true }).click();
  await page.getByLabel('Pair').selectOption('BTC-USD');
  const book = page.getByRole('table', { name: 'Order book' });
  await book.waitFor();
  await waitConnected(page);
  await http(b.t).post('/api/trading/orders').set(auth(bob)).send({ pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '50000.00', quantity: '0.5' }).expect(201);
  await book.getByRole('rowgroup', { name: 'Asks' }).getByText('50,000.00', { exact: true }).waitFor();

  // Alice (100.00 USD) bids 10.00 USD for 0.01 BTC … at 1000.00: it rests in the book and in her open orders.
  await page.getByLabel('Price (USD)').fill('1000.00');
  await page.getByLabel('Amount (BTC)').fill('0.01');
  await page.getByRole('button', { name: 'Buy BTC' }).click();
  const mine = page.getByRole('table', { name: 'My open orders' });
  await mine.getByText('1,000.00').waitFor();
  await book.getByRole('rowgroup', { name: 'Bids' }).getByText('1,000.00', { exact: true }).waitFor();

  // A bid that crosses Bob's ask trades at his price: the trade, the ticker and the book follow live.
  await page.getByLabel('Price (USD)').fill('50000.00');
  await page.getByLabel('Amount (BTC)').fill('0.001');
  await page.getByRole('button', { name: 'Buy BTC' }).click();
  await page.getByRole('table', { name: 'Recent trades' }).getByText('50,000.00', { exact: true }).waitFor();
  await book.getByRole('rowgroup', { name: 'Asks' }).getByText('0.49900000', { exact: true }).waitFor();
  await page.getByLabel('BTC-USD ticker').getByText('50,000.00').first().waitFor();
  await axeCheck(page);
  await shot(page, 'trading');
  await mine.getByRole('button', { name: /Cancel buy/ }).click();
  await page.getByText('No open orders on this pair.').waitFor();
  await book.getByRole('rowgroup', { name: 'Bids' }).getByText('1,000.00', { exact: true }).waitFor({ state: 'detached' });
  expect(b.errors).toEqual([]);
});

test('an expired access token is refreshed without the user noticing; a revoked session lands on sign-in', async () => {
  // A stale access token in storage (as after a long idle): the app refreshes and carries on.
  const stored = async () => JSON.parse((await page.evaluate<string | null>('localStorage.getItem("softchat.session")')) ?? 'null') as { accessToken: string; refreshToken: string } | null;
  const before = (await stored())!;
  await page.evaluate(`localStorage.setItem("softchat.session", ${JSON.stringify(JSON.stringify({ ...before, accessToken: 'expired.token.value' }))})`);
  await page.reload();
  await page.getByText(alice.username, { exact: true }).first().waitFor();
  await waitConnected(page);
  const session = (await stored())!;
  expect(session.accessToken).not.toBe('expired.token.value');
  expect(session.refreshToken).not.toBe(before.refreshToken);

  // This browser session is signed out elsewhere (its token used from another client): the server
  // closes its live connections, the refresh is refused, and the app shows sign-in.
  await http(b.t).post('/api/auth/logout').set({ authorization: `Bearer ${session.accessToken}` }).send({ refreshToken: session.refreshToken }).expect((r) => expect([200, 201, 204]).toContain(r.status));
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await page.getByText('Your session ended').waitFor();
  expect(await stored()).toBeNull();
});
