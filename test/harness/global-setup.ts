import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/core/database/data-source-options';
import { TEMPLATE_DB, TEST_PG_ADMIN_URL, dbUrl } from './env';

/**
 * Builds the migrated template database once per run; each test file then gets its own
 * database cloned from it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
 */
export default async function globalSetup() {
  const admin = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    // Leftovers of an interrupted run.
    const stale = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 'softchat_t_%' OR datname = $1`, [TEMPLATE_DB]);
    for (const row of stale.rows) await admin.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${TEMPLATE_DB}"`);
  } finally {
    await admin.end();
  }
  const ds = new DataSource(buildDataSourceOptions({ url: dbUrl(TEMPLATE_DB), poolSize: 1, migrationsRun: false }));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}
