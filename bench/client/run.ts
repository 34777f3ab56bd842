/**
 * Client benchmarks (not a test): run with `npm run bench:client`.
 *
 * 1. Entry size: the gzipped JavaScript a browser loads to sign in and open Chat — measured by
 *    signing in in chromium, recording every .js response, and gzipping those files from
 *    client/dist (level 9, like `vite build`'s report).
 * 2. Order book under load: the Trading page open while the book changes 20 times a second for
 *    ORDERBOOK_SECONDS (default 15 s; a maker places and cancels limit orders through the API),
 *    recorded with a Chrome performance trace (CDP Tracing, devtools.timeline): main-thread tasks
 *    over 50 ms are counted, with the longest task and the updates the page applied.
 *
 * Results: bench/results/client.json and stdout. Needs the client built (`npm run build`).
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { ROOT, adminToken, api, machine, startApp } from '../lib/harness';

const SECONDS = Number(process.env.ORDERBOOK_SECONDS ?? 15);
const RATE = Number(process.env.ORDERBOOK_RATE ?? 20);
const DIST = join(ROOT, 'client', 'dist');

async function signIn(page: Page, url: string, email: string, password: string, username: string) {
  await page.goto(url + '/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(username, { exact: true }).first().waitFor();
}

async function main() {
  if (!existsSync(join(DIST, 'index.html'))) execSync('npm --prefix client run build', { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  const app = await startApp({ SERVE_CLIENT: 'true' });
  const dir = mkdtempSync(join(tmpdir(), 'softchat-bench-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const password = 'bench-password-1';
    const mk = async (name: string) => {
      const username = `${name}${Date.now().toString(36)}`;
      const r = await api(app.url, 'POST', '/api/auth/register', { username, email: `${username}@bench.test`, password });
      return { id: r.user.id as string, token: r.accessToken as string, username, email: `${username}@bench.test` };
    };
    const viewer = await mk('viewer');
    const maker = await mk('maker');
    const admin = await adminToken(app.url);

    // 1. Entry size: sign in and open Chat.
    const page = context.pages()[0] ?? (await context.newPage());
    const scripts = new Set<string>();
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.endsWith('.js')) scripts.add(u.pathname);
    });
    await signIn(page, app.url, viewer.email, password, viewer.username);
    await page.getByRole('heading', { name: 'Chat', level: 1 }).waitFor();
    const files = [...scripts].map((p) => {
      const raw = readFileSync(join(DIST, p));
      return { file: p, bytes: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
    });
    const entryGzip = files.reduce((s, f) => s + f.gzip, 0);
    console.log(`sign-in + chat entry: ${files.length} scripts, ${(entryGzip / 1024).toFixed(1)} KiB gzipped`);

    // 2. The order book at RATE updates per second.
    await api(app.url, 'POST', `/api/admin/wallet/${maker.id}/deposit`, { asset: 'BTC', amount: '100', reference: `bench-${Date.now()}` }, admin);
    await page.goto(`${app.url}/trading/BTC-USD`);
    const book = page.getByRole('table', { name: 'Order book' });
    await book.waitFor();
    await page.getByRole('status').filter({ hasText: 'Connected' }).first().waitFor();
    const startSeq = Number(await book.getAttribute('data-sequence'));

    const cdp = await context.newCDPSession(page);
    const events: { name: string; ph: string; dur?: number; tid: number; pid: number; args?: { name?: string } }[] = [];
    cdp.on('Tracing.dataCollected', (e: { value: typeof events }) => events.push(...e.value));
    const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
    await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,toplevel', transferMode: 'ReportEvents' });

    const open: string[] = [];
    const total = SECONDS * RATE;
    const t0 = Date.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // Mostly new asks at 30 price levels, and cancels once there are enough resting orders.
      if (open.length > 40 && i % 3 === 0) {
        const id = open.splice(Math.floor(open.length / 2), 1)[0];
        await api(app.url, 'PUT', `/api/trading/orders/${id}`, { status: 'cancelled' }, maker.token);
      } else {
        const price = (60000 + (i % 30) * 10).toFixed(2);
        const o = await api(app.url, 'POST', '/api/trading/orders', { pairId: 'BTC-USD', side: 'sell', type: 'limit', price, quantity: '0.01' }, maker.token);
        open.push(o.id);
      }
    }
    const elapsed = (Date.now() - t0) / 1000;
    await page.waitForTimeout(500);
    await cdp.send('Tracing.end');
    await done;
    const endSeq = Number(await book.getAttribute('data-sequence'));

    const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
    const tasks = events.filter((e) => e.ph === 'X' && (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask') && (!main || (e.tid === main.tid && e.pid === main.pid)));
    const durations = tasks.map((t) => (t.dur ?? 0) / 1000);
    const long = durations.filter((d) => d > 50);
    const result = {
      at: new Date().toISOString(),
      machine: machine(),
      entry: { scripts: files.length, gzipBytes: entryGzip, files },
      orderBook: {
        targetRate: RATE,
        seconds: Number(elapsed.toFixed(1)),
        updatesSent: total,
        achievedRate: Number((total / elapsed).toFixed(1)),
        bookSequenceAdvance: endSeq - startSeq,
        mainThreadTasks: tasks.length,
        longTasksOver50ms: long.length,
        longestTaskMs: Number(Math.max(0, ...durations).toFixed(1)),
        p99TaskMs: Number((durations.sort((a, b) => a - b)[Math.floor(durations.length * 0.99)] ?? 0).toFixed(1)),
      },
    };
    console.log(JSON.stringify(result.orderBook, null, 2));
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'client.json'), JSON.stringify(result, null, 2));
  } finally {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await app.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
