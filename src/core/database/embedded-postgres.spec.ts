import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataDirLockedError, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

jest.setTimeout(60_000);

function captureLogger() {
  const lines: string[] = [];
  return { lines, log: (msg: string) => lines.push(msg), warn: (msg: string) => lines.push(`WARN ${msg}`) };
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('startEmbeddedPostgres', () => {
  let root: string;
  let dataDir: string;
  const running: EmbeddedPostgres[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'embedded-pg-'));
    dataDir = join(root, 'pg');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((pg) => pg.stop()));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  async function start(dir = dataDir) {
    const logger = captureLogger();
    const pg = await startEmbeddedPostgres({ dataDir: dir, logger });
    running.push(pg);
    return { pg, logger };
  }

  it('creates the data dir, serves pg clients, and keeps data across restarts', async () => {
    const first = await start();
    expect(first.pg.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(first.logger.lines.join('\n')).toMatch(/ready at postgres:\/\/\S+ in \d+ ms/);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(readFileSync(join(dataDir, '.lock'), 'utf8').trim()).toBe(String(process.pid));

    await withClient(first.pg.url, async (client) => {
      await client.query('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, meta jsonb)');
      await client.query('INSERT INTO notes (body, meta) VALUES ($1, $2)', ['hello', { n: 1 }]);
      const { rows } = await client.query<{ id: string }>('SELECT gen_random_uuid()::text AS id');
      expect(rows[0].id).toMatch(/^[0-9a-f-]{36}$/);
    });
    await first.pg.stop();
    expect(existsSync(join(dataDir, '.lock'))).toBe(false);

    const second = await start();
    const rows = await withClient(second.pg.url, async (client) => (await client.query('SELECT body, meta FROM notes')).rows);
    expect(rows).toEqual([{ body: 'hello', meta: { n: 1 } }]);
  });

  it('supports the extensions TypeORM expects, transactions and statement errors on one connection', async () => {
    const { pg } = await start();
    await withClient(pg.url, async (client) => {
      await client.query('CREATE EXTENSION IF NOT EXISTS "uuid-ossp"');
      await client.query('CREATE TABLE t (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), n int NOT NULL)');
      await client.query('BEGIN');
      await client.query('INSERT INTO t (n) VALUES ($1)', [1]);
      await client.query('ROLLBACK');
      await expect(client.query('SELECT $1::int', ['not a number'])).rejects.toThrow(/invalid input syntax/);
      await client.query({ name: 'ins', text: 'INSERT INTO t (n) VALUES ($1)', values: [2] });
      await client.query({ name: 'ins', text: 'INSERT INTO t (n) VALUES ($1)', values: [3] });
      const { rows } = await client.query('SELECT n FROM t ORDER BY n');
      expect(rows).toEqual([{ n: 2 }, { n: 3 }]);
      await client.query('DROP TABLE t');
    });
  });

  it('is a single session: a second concurrent client is dropped, the first is unaffected', async () => {
    const { pg } = await start();
    await withClient(pg.url, async (first) => {
      const second = new Client({ connectionString: pg.url });
      second.on('error', () => undefined);
      await expect(second.connect()).rejects.toThrow(/ECONNRESET|Connection terminated unexpectedly/);
      expect((await first.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
    // Node's net.Server maxConnections closes the extra socket before any protocol reply; once the first client has gone, the slot is free again.
    await withClient(pg.url, async (client) => {
      expect((await client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    });
  });

  it('refuses a second start on the same data dir while the first runs', async () => {
    const { pg } = await start();
    await expect(startEmbeddedPostgres({ dataDir, logger: captureLogger() })).rejects.toThrow(DataDirLockedError);
    // The refused attempt must not have disturbed the running instance or its lock.
    expect(readFileSync(join(dataDir, '.lock'), 'utf8').trim()).toBe(String(process.pid));
    await withClient(pg.url, async (client) => {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });

  it('reports a busy port and releases the data dir again', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(startEmbeddedPostgres({ dataDir, port, logger: captureLogger() })).rejects.toThrow(
        `Embedded Postgres could not listen on 127.0.0.1:${port}`,
      );
    } finally {
      await new Promise((done) => blocker.close(done));
    }
    expect(existsSync(join(dataDir, '.lock'))).toBe(false);
    const { pg } = await start();
    await withClient(pg.url, async (client) => {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });

  it('refuses a data dir locked by another live process', async () => {
    const dir = join(root, 'foreign');
    mkdirSync(dir);
    // Our parent (the jest runner or shell) is alive and is not us.
    writeFileSync(join(dir, '.lock'), `${process.ppid}\n`);
    const attempt = startEmbeddedPostgres({ dataDir: dir, logger: captureLogger() });
    await expect(attempt).rejects.toThrow(DataDirLockedError);
    await expect(attempt).rejects.toThrow(`pid ${process.ppid}`);
    expect(readFileSync(join(dir, '.lock'), 'utf8').trim()).toBe(String(process.ppid));
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(false);
  });

  it('takes over a stale lock left by a dead process', async () => {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    expect(deadPid).toBeGreaterThan(0);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, '.lock'), `${deadPid}\n`);

    const { pg, logger } = await start();
    expect(logger.lines.join('\n')).toContain(`stale lock file ${join(dataDir, '.lock')} (pid ${deadPid} is not running)`);
    expect(readFileSync(join(dataDir, '.lock'), 'utf8').trim()).toBe(String(process.pid));
    await withClient(pg.url, async (client) => {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });
});
