/**
 * Browser end-to-end harness: the real app (real Postgres and Redis through test/harness) serving
 * the built React client, driven in Debian's chromium through playwright-core (no browser
 * download). One browser per test file: the CI machine has two cores.
 *
 *   const b = await openApp();                  // app + browser
 *   const page = await b.newPage();
 *   await signInAs(page, b.url, user);          // by the form's labels, like a person
 *   await axeCheck(page);                       // no serious/critical axe violation
 *   await b.close();
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { startTestApp, type TestApp, type TestAppOptions } from '../harness/app';
import type { TestUser } from '../harness/clients';

const ROOT = resolve(__dirname, '..', '..');
const CLIENT = join(ROOT, 'client');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds client/dist when it is missing or older than client/src (CI builds it beforehand). */
export function ensureClientBuilt(): void {
  const index = join(CLIENT, 'dist', 'index.html');
  const stale = !existsSync(index) || newestMtime(join(CLIENT, 'src')) > statSync(index).mtimeMs || process.env.CLIENT_REBUILD === 'true';
  if (stale) execSync('npm run build', { cwd: CLIENT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
}

export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'softchat-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BrowserApp {
  t: TestApp;
  url: string;
  context: BrowserContext;
  /** A new tab (the first call reuses the persistent context's blank tab). Console errors are collected in `errors`. */
  newPage(): Promise<Page>;
  errors: string[];
  close(): Promise<void>;
}

/** Boots the app with the client served at "/" and a browser pointed at it. */
export async function openApp(opts: TestAppOptions = {}): Promise<BrowserApp> {
  ensureClientBuilt();
  const t = await startTestApp({ ...opts, env: { SERVE_CLIENT: 'true', ...opts.env } });
  const browser = await launchBrowser().catch(async (e) => {
    await t.close();
    throw e;
  });
  const errors: string[] = [];
  let first = true;
  return {
    t,
    url: t.url,
    context: browser.context,
    errors,
    async newPage() {
      const existing = browser.context.pages();
      const page = first && existing.length ? existing[0] : await browser.context.newPage();
      first = false;
      page.on('pageerror', (e) => errors.push(String(e)));
      return page;
    },
    async close() {
      await browser.close();
      await t.close();
    },
  };
}

/** Signs in through the form, by its labels, and waits for the shell to show the username. */
export async function signInAs(page: Page, baseUrl: string, user: Pick<TestUser, 'email' | 'password' | 'username'>, path = '/') {
  await page.goto(baseUrl + path);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(user.username, { exact: true }).first().waitFor();
}

/** Waits until both live channels (GraphQL over WebSocket and Socket.IO) are connected. */
export async function waitConnected(page: Page) {
  await page.getByRole('status').filter({ hasText: 'Connected' }).first().waitFor();
}

/**
 * With SCREENSHOTS=true, saves the page to docs/screenshots/<name>.png (the README shows them):
 * `SCREENSHOTS=true npx jest test/client` refreshes every page's picture from a real run.
 */
export async function shot(page: Page, name: string) {
  if (process.env.SCREENSHOTS !== 'true') return;
  const dir = join(ROOT, 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.evaluate('window.scrollTo(0, 0)');
  await page.waitForTimeout(300); // let charts and fonts settle: a picture, not an assertion
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}

/** Runs axe on the page; fails on any serious or critical violation (listing them). */
export async function axeCheck(page: Page, opts: { exclude?: string[] } = {}) {
  let builder = new AxeBuilder({ page });
  for (const sel of opts.exclude ?? []) builder = builder.exclude(sel);
  const results = await builder.analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const lines = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`);
    throw new Error(`axe found ${bad.length} serious/critical violation(s):\n${lines.join('\n')}`);
  }
  return results;
}
