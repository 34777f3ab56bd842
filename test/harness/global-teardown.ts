import { Client } from 'pg';
import { TEST_PG_ADMIN_URL, templateDb, testDbPrefix } from './env';

/** Drops this run's template and any database a crashed test file left behind. */
export default async function globalTeardown() {
  const admin = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    const left = await admin.query(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [testDbPrefix()]);
    for (const r of left.rows) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS "${templateDb()}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
