import { planProcesses, restartDelayMs, sessionIdFor, workerOfRequestLine } from './cluster';

describe('planProcesses (what `node dist/main.js` starts)', () => {
  const config = (workers: number, runtimeFlags = ['--max-semi-space-size=64'], url: string | null = 'postgres://x/y', sticky = true) => ({
    cluster: { workers, runtimeFlags, sticky },
    database: { url },
  });

  it('forks one worker with the flags when they were not given, so the production start is the fast one', () => {
    const p = planProcesses(config(1), [], undefined, false);
    expect(p).toMatchObject({ workers: 1, fork: true, sticky: false, addedFlags: ['--max-semi-space-size=64'] });
    expect(p.execArgv).toEqual(['--max-semi-space-size=64']);
  });

  it('a flag given on the command line or in NODE_OPTIONS wins; with nothing to add and one worker, no extra process', () => {
    expect(planProcesses(config(1), ['--max-semi-space-size=16'], undefined, false)).toMatchObject({ fork: false, addedFlags: [] });
    expect(planProcesses(config(1), [], '--enable-source-maps --max_semi_space_size=32', false)).toMatchObject({ fork: false, addedFlags: [] });
    expect(planProcesses(config(1, []), [], undefined, false)).toMatchObject({ fork: false });
    // Other flags the user gave are kept for the workers.
    expect(planProcesses(config(2), ['--enable-source-maps'], undefined, false).execArgv).toEqual(['--enable-source-maps', '--max-semi-space-size=64']);
  });

  it('several workers route Socket.IO sessions (unless turned off); the embedded Postgres always runs one process', () => {
    expect(planProcesses(config(4), [], undefined, false)).toMatchObject({ workers: 4, fork: true, sticky: true });
    expect(planProcesses(config(4, undefined, undefined, false), [], undefined, false)).toMatchObject({ workers: 4, sticky: false });
    const embedded = planProcesses(config(4, [], null), [], undefined, false);
    expect(embedded).toMatchObject({ workers: 1, fork: false, sticky: false });
    expect(embedded.note).toMatch(/embedded Postgres/);
  });

  it('under ts-node (npm start) the workers load TypeScript the same way', () => {
    expect(planProcesses(config(2), [], undefined, true).execArgv.slice(0, 2)).toEqual(['-r', 'ts-node/register/transpile-only']);
    expect(planProcesses(config(2), ['-r', 'ts-node/register/transpile-only'], undefined, true).execArgv).toEqual([
      '-r',
      'ts-node/register/transpile-only',
      '--max-semi-space-size=64',
    ]);
  });
});

describe('sticky routing by session id', () => {
  it('a session id names its worker, and the primary finds it in the request line', () => {
    const sid = sessionIdFor(7);
    expect(sid).toMatch(/^7\.[A-Za-z0-9_-]{20}$/);
    expect(sessionIdFor(7)).not.toBe(sid);
    expect(workerOfRequestLine(`GET /socket.io/?EIO=4&transport=polling&t=abc&sid=${sid} HTTP/1.1`)).toBe(7);
    expect(workerOfRequestLine(`POST /socket.io/?EIO=4&sid=${encodeURIComponent(sid)}&transport=polling HTTP/1.1`)).toBe(7);
    expect(workerOfRequestLine('GET /socket.io/?EIO=4&transport=polling&t=abc HTTP/1.1')).toBeNull();
    expect(workerOfRequestLine('POST /api/wallet/x/transfer HTTP/1.1')).toBeNull();
  });
});

describe('restartDelayMs', () => {
  it('doubles per quick crash from 500 ms and stays at most 30 s', () => {
    expect([1, 2, 3, 4].map(restartDelayMs)).toEqual([500, 1000, 2000, 4000]);
    expect(restartDelayMs(50)).toBe(30_000);
  });
});
