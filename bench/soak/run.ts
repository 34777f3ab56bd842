/**
 * bench/soak: chat + presence + reconnect churn against the app for --minutes, sampling its heap after
 * a forced GC through the inspector protocol, and checking at the end that no chat delivery was lost.
 *
 *   npm run bench:soak [-- --minutes 30 --clients 300 --rate 20 --churn-per-second 3]
 *
 * The app is the build started as `node <build>/main.js` with `--inspect=127.0.0.1:0` added (random
 * ports; every process of the tree that opens an inspector is found from its "Debugger listening on"
 * line) and WEB_CONCURRENCY=1 (one worker: a heap to watch). Every --sample-seconds each inspector gets
 * `HeapProfiler.collectGarbage` then `Runtime.getHeapUsage` over a `ws` connection; the heap figure is
 * the sum of the processes' used heap, and the RSS of the process tree is read from /proc.
 *
 * Load, all the time: clients (bench/lib/chat-client.ts) spread over chat rooms; members send
 * `send_message` over Socket.IO at --rate messages/s; a few change presence (`update_presence`) and type
 * (`start_typing`/`stop_typing`) every second; --churn-per-second clients drop their connection as a
 * network blip does and come back with the real client's backoff and catch-up (`join_room {lastSeq}`,
 * REST `afterSeq`). At the end every client must hold every message of its room (seq 1..last, from the
 * database) — a lost delivery fails the run (exit code 1), loudly.
 *
 * Figure: heap growth after warm-up = (last sample − first sample at or after --warmup-seconds) / that
 * first sample, in %.
 */
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { pool } from '../chat-fanout/clients';
import { ChatClient } from '../lib/chat-client';
import { Inspector, inspectorUrls } from '../lib/inspector';
import { BenchUser, api, appEnvOverrides, hasFlag, machine, numArg, registerMany, sleep, startApp, treePids, treeRssKiB, writeResult } from '../lib/harness';

const QUICK = hasFlag('quick');
const MINUTES = numArg('minutes', QUICK ? 1 : 3);
const CLIENTS = numArg('clients', QUICK ? 100 : 300);
const USERS = numArg('users', QUICK ? 20 : 60);
const ROOMS = numArg('rooms', QUICK ? 4 : 6);
const RATE = numArg('rate', 20);
const CHURN = numArg('churn-per-second', QUICK ? 1 : 3);
const SAMPLE_MS = numArg('sample-seconds', MINUTES <= 2 ? 10 : 30) * 1000;
const WARMUP_MS = numArg('warmup-seconds', Math.min(120, Math.max(20, MINUTES * 60 * 0.25))) * 1000;
const DURATION_MS = MINUTES * 60_000;

interface Sample {
  atSeconds: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Used heap of each inspected process (a cluster primary and its worker, or a re-executed entry). */
  heapByProcessBytes: number[];
  rssKiB: number;
  clientsJoined: number;
  messages: number;
}

async function main() {
  console.log(
    `bench/soak: ${MINUTES} min, ${CLIENTS} clients in ${ROOMS} rooms, ${RATE} msg/s, churn ${CHURN}/s, heap sampled every ${SAMPLE_MS / 1000} s after a forced GC, warm-up ${WARMUP_MS / 1000} s — ${machine()}`,
  );
  const hardStop = setTimeout(() => {
    console.error('soak: over its time budget; stopping');
    process.exit(1);
  }, DURATION_MS + 5 * 60_000);
  hardStop.unref();

  let stderr = '';
  const app = await startApp(
    {
      THROTTLE_CHAT_MESSAGES: '10000000',
      THROTTLE_SOCKET_EVENTS_PER_SECOND: '100000',
      THROTTLE_SOCKET_BURST: '100000',
      PRESENCE_STATUS_CHANGES_PER_MINUTE: '10000',
      // Sockets outlive the default 15-minute access token in a 30-minute soak; expiry is not what is measured.
      JWT_ACCESS_TTL: `${MINUTES + 15}m`,
    },
    { nodeArgs: ['--inspect=127.0.0.1:0'], onStderr: (d) => (stderr += d), force: { WEB_CONCURRENCY: '1' } },
  );
  const clients: ChatClient[] = [];
  const inspectors: Inspector[] = [];
  let running = true;
  let failed = false;
  try {
    const urls = inspectorUrls(stderr);
    if (!urls.length) throw new Error('no inspector found in the app\'s output (is --inspect allowed by its entry?)');
    // Every process of the app (a cluster primary and its worker) must be watched: a worker whose
    // inspector could not open would leave only the primary's small heap in the figures.
    const processes = treePids(app.pid).length;
    if (urls.length < processes) throw new Error(`${processes} app processes but ${urls.length} inspector(s): ${stderr.match(/Starting inspector.*failed.*/)?.[0] ?? 'a worker has none'}`);
    for (const u of urls) inspectors.push(await Inspector.open(u));
    // The heap watched is that of every process that opened an inspector: if the entry re-executes itself
    // without passing its execArgv on, only the launcher is watched (its heap stays tiny; see the samples).
    console.log(`inspectors: ${urls.length} process(es)`);

    const users: BenchUser[] = await registerMany(app.url, USERS, 'soak');
    const rooms: string[] = [];
    for (let r = 0; r < ROOMS; r++) rooms.push((await api(app.url, 'POST', '/api/chat/rooms', { name: `soak ${r}` }, users[r].token)).id);
    await pool(users, 8, async (u, i) => {
      if (i >= ROOMS) await api(app.url, 'POST', `/api/chat/rooms/${rooms[i % ROOMS]}/join`, {}, u.token);
    });
    let presenceEvents = 0;
    for (let i = 0; i < CLIENTS; i++) {
      const u = users[i % USERS];
      clients.push(
        new ChatClient({
          url: app.url,
          auth: { token: u.token },
          token: u.token,
          roomId: rooms[(i % USERS) % ROOMS],
          catchUp: true,
          onEvent: (_c, e) => {
            if (e === 'user_online' || e === 'user_offline' || e === 'typing_started') presenceEvents++;
          },
        }),
      );
    }
    await pool(clients, 50, (c) => c.start());
    const byRoom = rooms.map((r) => clients.filter((c) => c.opts.roomId === r));
    console.log(`${clients.length} clients connected and joined`);

    const t0 = performance.now();
    const at = () => (performance.now() - t0) / 1000;
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    let sent = 0;
    let sendRefused = 0;
    let churned = 0;

    const chat = (async () => {
      let next = performance.now();
      while (running) {
        const r = sent % ROOMS;
        const k = sent++;
        const from = byRoom[r].filter((c) => c.joined);
        if (from.length) {
          void pick(from)
            .emitAck<{ ok: boolean }>('send_message', { roomId: rooms[r], content: `soak ${k}`, clientMessageId: `soak-${k}` })
            .then((a) => {
              if (!a.ok) sendRefused++;
            });
        }
        next += 1000 / RATE;
        await sleep(Math.max(0, next - performance.now()));
      }
    })();
    const churn = (async () => {
      const statuses = ['online', 'away', 'busy'];
      while (running) {
        await sleep(1000);
        for (let i = 0; i < CHURN; i++) {
          const c = pick(clients);
          if (c.joined) {
            c.drop();
            churned++;
          }
        }
        for (let i = 0; i < 3; i++) {
          const c = pick(clients);
          c.emit('update_presence', { status: pick(statuses) });
          const t = pick(clients);
          t.emit('start_typing', { roomId: t.opts.roomId });
          setTimeout(() => t.emit('stop_typing', { roomId: t.opts.roomId }), 500);
        }
      }
    })();

    const samples: Sample[] = [];
    const sample = async () => {
      let used = 0;
      let total = 0;
      const each: number[] = [];
      for (const ins of inspectors) {
        await ins.call('HeapProfiler.collectGarbage');
        const h = await ins.call<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
        used += h.usedSize;
        total += h.totalSize;
        each.push(h.usedSize);
      }
      const s: Sample = {
        atSeconds: Math.round(at()),
        heapUsedBytes: used,
        heapTotalBytes: total,
        heapByProcessBytes: each,
        rssKiB: treeRssKiB(app.pid),
        clientsJoined: clients.filter((c) => c.joined).length,
        messages: sent,
      };
      samples.push(s);
      console.log(
        `  t=${String(s.atSeconds).padStart(5)} s  heap ${(used / 2 ** 20).toFixed(1)} MiB (total ${(total / 2 ** 20).toFixed(1)}${each.length > 1 ? `; ${each.map((x) => (x / 2 ** 20).toFixed(1)).join(' + ')}` : ''})  RSS ${(s.rssKiB / 1024).toFixed(1)} MiB  ` +
          `${s.clientsJoined}/${clients.length} joined  ${sent} msgs sent  ${churned} drops  ${presenceEvents} presence/typing events`,
      );
    };
    await sample();
    while (at() * 1000 < DURATION_MS) {
      await sleep(Math.min(SAMPLE_MS, DURATION_MS - at() * 1000));
      await sample();
    }
    running = false;
    await Promise.all([chat, churn]);

    // Every client back and holding every message of its room (the database's last seq).
    const lastSeq = new Map<string, number>();
    await sleep(1000);
    for (const r of rooms) {
      const page = await api<{ items: { seq: number }[] }>(app.url, 'GET', `/api/chat/rooms/${r}/messages?limit=1`, undefined, users[rooms.indexOf(r)].token);
      lastSeq.set(r, page.items[0]?.seq ?? 0);
    }
    const behind = () => clients.filter((c) => !c.joined || c.hw < lastSeq.get(c.opts.roomId)!);
    const deadline = Date.now() + 30_000;
    while (behind().length && Date.now() < deadline) await sleep(250);
    const late = behind();
    const missing = late.reduce((a, c) => a + c.missing(lastSeq.get(c.opts.roomId)!), 0);
    const stored = [...lastSeq.values()].reduce((a, b) => a + b, 0);

    const base = samples.find((s) => s.atSeconds * 1000 >= WARMUP_MS) ?? samples[0];
    const last = samples.at(-1)!;
    const growthPct = +(((last.heapUsedBytes - base.heapUsedBytes) / base.heapUsedBytes) * 100).toFixed(2);
    const rssGrowthPct = +(((last.rssKiB - base.rssKiB) / base.rssKiB) * 100).toFixed(2);
    const afterWarmup = samples.filter((s) => s.atSeconds >= base.atSeconds);
    const maxAfter = Math.max(...afterWarmup.map((s) => s.heapUsedBytes));
    failed = missing > 0 || late.length > 0;
    writeResult('soak', {
      when: new Date().toISOString(),
      machine: machine(),
      config: { minutes: MINUTES, clients: CLIENTS, users: USERS, rooms: ROOMS, rate: RATE, churnPerSecond: CHURN, sampleSeconds: SAMPLE_MS / 1000, warmupSeconds: WARMUP_MS / 1000 },
      appEnv: appEnvOverrides(),
      samples,
      heapGrowthPct: growthPct,
      heapMaxAfterWarmupBytes: maxAfter,
      rssGrowthPct,
      baseline: base,
      final: last,
      messagesStored: stored,
      sendRefused,
      drops: churned,
      restCatchUps: clients.reduce((a, c) => a + c.catchUpRest, 0),
      presenceEvents,
      clientsBehind: late.length,
      deliveriesMissing: missing,
      ok: !failed,
      loadAverage: loadavg(),
    });
    console.log(
      `\n${stored} messages stored, ${sendRefused} sends refused, ${churned} reconnects, ${clients.reduce((a, c) => a + c.catchUpRest, 0)} REST catch-up pages, ${presenceEvents} presence/typing events`,
    );
    console.log(
      `RESULT soak: heap after GC ${(base.heapUsedBytes / 2 ** 20).toFixed(1)} MiB at ${base.atSeconds} s → ${(last.heapUsedBytes / 2 ** 20).toFixed(1)} MiB at ${last.atSeconds} s: ` +
        `growth ${growthPct}% after warm-up (max ${(maxAfter / 2 ** 20).toFixed(1)} MiB); RSS ${(base.rssKiB / 1024).toFixed(1)} → ${(last.rssKiB / 1024).toFixed(1)} MiB; ` +
        `${missing} deliveries missing`,
    );
    if (failed) {
      const notBack = late.filter((c) => !c.joined).length;
      console.error(
        `\n!!! soak FAILED: ${missing ? `${missing} deliveries missing over ${late.filter((c) => c.missing(lastSeq.get(c.opts.roomId)!) > 0).length} clients: A DELIVERY WAS LOST` : ''}` +
          `${notBack ? `${missing ? '; ' : ''}${notBack} clients never came back` : ''} !!!`,
      );
      for (const c of late.slice(0, 5)) console.error(`  client hw ${c.hw} / room last ${lastSeq.get(c.opts.roomId)} joined=${c.joined} errors=${c.errors.join(' | ')}`);
    }
  } finally {
    running = false;
    clients.forEach((c) => c.close());
    inspectors.forEach((i) => i.close());
    await app.stop();
  }
  if (failed) process.exitCode = 1;
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
