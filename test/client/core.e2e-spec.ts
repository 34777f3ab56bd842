/**
 * The React client in a real browser against the real app: sign in by the form's labels, then each
 * core page's main live flow, with the change made by another user through the API and appearing
 * without a reload; and an axe scan of each page.
 */
import type { Page } from 'playwright-core';
import { http, loginAdmin, registerUser, type TestUser } from '../harness/clients';
import { deposit } from '../harness/money';
import { ledgerVerify } from '../harness/process';
import { dbUrl } from '../harness/env';
import { axeCheck, openApp, signInAs, waitConnected, type BrowserApp } from './harness';

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
  await b?.close();
});

test('signs in by the labels Email and Password, and shows the username and the connection state', async () => {
  await signInAs(page, b.url, alice);
  await waitConnected(page);
  for (const name of ['Chat', 'Wallet', 'Trading', 'P2P', 'Videos', 'Creator', 'Battles']) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).waitFor();
  }
  await page.getByRole('link', { name: /Notifications \(0 unread\)/ }).waitFor();
});

test('chat: a message Bob posts through the API appears live; Enter sends mine', async () => {
  const room = await http(b.t).post('/api/chat/rooms').set(auth(bob)).send({ name: 'e2e-room' }).expect(201);
  const roomId = room.body.id as string;
  await http(b.t).post(`/api/chat/rooms/${roomId}/messages`).set(auth(bob)).send({ content: 'before alice' }).expect(201);
  await page.getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('button', { name: 'Refresh rooms' }).click();
  await page.getByRole('button', { name: 'Join e2e-room' }).click();
  await page.getByRole('log').getByText('before alice').waitFor();
  await waitConnected(page);

  await http(b.t).post(`/api/chat/rooms/${roomId}/messages`).set(auth(bob)).send({ content: 'hello from bob' }).expect(201);
  await page.getByRole('log').getByText('hello from bob').waitFor();

  const composer = page.getByLabel('Message', { exact: true });
  await composer.fill('hi bob');
  await composer.press('Enter');
  await page.getByRole('log').getByText('hi bob').waitFor();
  const res = await http(b.t).get(`/api/chat/rooms/${roomId}/messages`).set(auth(bob)).expect(200);
  expect(res.body.items.map((m: { content: string }) => m.content)).toContain('hi bob');
  expect(await composer.inputValue()).toBe('');
  await axeCheck(page);
});
