import { Client } from 'pg';
import { TEMPLATE_DB, TEST_PG_ADMIN_URL } from './env';

export default async function globalTeardown() {
  const admin = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
