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
import { loadavg, tmpdir } from 'node:os';
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
    type Ev = { name: string; ph: string; ts: number; dur?: number; tid: number; pid: number; args?: { name?: string } };
    let events: Ev[] = [];
    cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as Ev[])));
    const startTrace = async () => {
      events = [];
      await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,toplevel,v8', transferMode: 'ReportEvents' });
    };
    const stopTrace = async () => {
      const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
      await cdp.send('Tracing.end');
      await done;
      const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
      const onMain = (e: Ev) => !main || (e.tid === main.tid && e.pid === main.pid);
      // Top-level tasks only (Chrome nests ThreadControllerImpl::RunTask inside RunTask: count each task once).
      const name = events.some((e) => e.name === 'RunTask' && onMain(e)) ? 'RunTask' : 'ThreadControllerImpl::RunTask';
      const tasks = events.filter((e) => e.ph === 'X' && e.name === name && onMain(e));
      const durations = tasks.map((t) => (t.dur ?? 0) / 1000).sort((a, b) => a - b);
      const long = tasks.filter((t) => (t.dur ?? 0) > 50_000);
      // What the long tasks were busy with: their biggest child events.
      const inside = long.map((t) =>
        events
          .filter((e) => e.ph === 'X' && onMain(e) && e !== t && e.ts >= t.ts && e.ts + (e.dur ?? 0) <= t.ts + (t.dur ?? 0) && !e.name.includes('RunTask'))
          .sort((a, b) => (b.dur ?? 0) - (a.dur ?? 0))
          .slice(0, 3)
          .map((e) => `${e.name} ${((e.dur ?? 0) / 1000).toFixed(0)}ms`)
          .join(', '),
      );
      return {
        mainThreadTasks: tasks.length,
        longTasksOver50ms: long.length,
        longestTaskMs: Number((durations.at(-1) ?? 0).toFixed(1)),
        p99TaskMs: Number((durations[Math.floor(durations.length * 0.99)] ?? 0).toFixed(1)),
        longTaskContents: inside,
      };
    };

    // Baseline: the same page, same length, no updates (what the machine alone costs).
    await startTrace();
    await page.waitForTimeout(SECONDS * 1000);
    const idle = await stopTrace();
    console.log('idle page:', JSON.stringify(idle));

    await startTrace();

    // Requests are fired on schedule without waiting for the previous answer (at most 16 in flight),
    // so the rate holds even when one request is slow.
    const open: string[] = [];
    const inflight = new Set<Promise<void>>();
    const total = SECONDS * RATE;
    let failed = 0;
    const t0 = Date.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      while (inflight.size >= 16) await Promise.race(inflight);
      // Mostly new asks over 30 price levels; every third step cancels one once enough rest.
      const work =
        open.length > 40 && i % 3 === 0
          ? api(app.url, 'PUT', `/api/trading/orders/${open.splice(Math.floor(open.length / 2), 1)[0]}`, { status: 'cancelled' }, maker.token).then(() => undefined)
          : api(app.url, 'POST', '/api/trading/orders', { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: (60000 + (i % 30) * 10).toFixed(2), quantity: '0.01' }, maker.token).then((o) => {
              open.push(o.id);
            });
      const p: Promise<void> = work.catch(() => void (failed += 1)).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
    const elapsed = (Date.now() - t0) / 1000;
    await page.waitForTimeout(500);
    const busy = await stopTrace();
    const endSeq = Number(await book.getAttribute('data-sequence'));
    const load = loadavg().map((x) => x.toFixed(1)).join(' ');
    const result = {
      at: new Date().toISOString(),
      machine: machine(),
      entry: { scripts: files.length, gzipBytes: entryGzip, files },
      orderBook: {
        targetRate: RATE,
        seconds: Number(elapsed.toFixed(1)),
        requestsSent: total,
        requestsFailed: failed,
        achievedRate: Number((total / elapsed).toFixed(1)),
        bookSequenceAdvance: endSeq - startSeq,
        ...busy,
        idleBaseline: idle,
        loadAverageAfter: load,
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
