import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/core/database/data-source-options';
import { TEST_PG_ADMIN_URL, dbUrl, templateDb } from './env';

/**
 * Builds the migrated template database once per run; each test file then gets its own
 * database cloned from it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
 */
export default async function globalSetup() {
  process.env.SOFTCHAT_TEST_RUN = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${templateDb()}"`);
  } finally {
    await admin.end();
  }
  const ds = new DataSource(buildDataSourceOptions({ url: dbUrl(templateDb()), poolSize: 1, migrationsRun: false }));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}
