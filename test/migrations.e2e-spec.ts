import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { clearRedisPrefix, createDatabase, dropDatabase, startTestApp, TestApp, testDbPrefix } from './harness/app';
import { http, registerUser } from './harness/clients';

/** Real migrations: two replicas migrating one empty database at once, and every `down` works. */
describe('migrations', () => {
  const name = `${testDbPrefix()}mig${randomBytes(3).toString('hex')}`;
  const prefix = `tm${randomBytes(4).toString('hex')}`;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    await createDatabase(name, false);
    [a, b] = await Promise.all([
      startTestApp({ emptyDatabase: { name, prefix, owner: false } }),
      startTestApp({ emptyDatabase: { name, prefix, owner: false } }),
    ]);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await dropDatabase(name);
    await clearRedisPrefix(prefix);
  });

  it('lets replicas that start together migrate once, in turn, and both serve', async () => {
    const ds: DataSource = a.app.get(getDataSourceToken());
    const rows: { name: string }[] = await ds.query(`SELECT name FROM migrations ORDER BY id`);
    const names = rows.map((r) => r.name);
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(new Set(names).size).toBe(names.length);
    expect(await ds.showMigrations()).toBe(false);
    const u = await registerUser(a);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(200);
  });

  it('reverts every migration and applies them again', async () => {
    const ds: DataSource = a.app.get(getDataSourceToken());
    const count = (await ds.query(`SELECT count(*)::int AS n FROM migrations`))[0].n;
    await b.close();
    await a.close();
    const raw = new DataSource({ ...ds.options, entities: [] } as never);
    await raw.initialize();
    try {
      for (let i = 0; i < count; i++) await raw.undoLastMigration({ transaction: 'each' });
      const tables: { table_name: string }[] = await raw.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
      );
      expect(tables).toEqual([]);
      const again = await raw.runMigrations({ transaction: 'each' });
      expect(again).toHaveLength(count);
    } finally {
      await raw.destroy();
    }
    a = await startTestApp({ emptyDatabase: { name, prefix, owner: false } });
    await registerUser(a);
  });
});
