import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/** Environment without the variables a test wants to control. */
export function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(DATABASE_URL|REDIS_URL|REDIS_PREFIX|JWT_SECRET|NODE_ENV|PORT|DATA_DIR|ADMIN_.*|JEST_.*)$/.test(k)) out[k] = v;
  }
  return out;
}

export interface AppProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs `src/main.ts` as a real process (like `npm start`). */
export function spawnApp(env: Record<string, string>, port: number): AppProcess {
  let out = '';
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...cleanEnv(), TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

export async function waitHealthy(p: AppProcess, timeoutMs = 60_000): Promise<void> {
  let done = false;
  void p.exited.then(() => (done = true));
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (done) throw new Error(`app exited early:\n${p.output()}`);
    try {
      const r = await fetch(`${p.url}/api/health`);
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`app not healthy in time:\n${p.output()}`);
}

/** `npm run ledger:verify` against a database: exit code and report. */
export function ledgerVerify(databaseUrl: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/ledger-verify.ts'], {
    cwd: ROOT,
    env: { ...cleanEnv(), DATABASE_URL: databaseUrl, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
