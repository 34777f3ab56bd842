import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/core/config/config';
import { buildDataSourceOptions } from '../src/core/database/data-source-options';
import { startEmbeddedPostgres } from '../src/core/database/embedded-postgres';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';

/**
 * `npm run ledger:verify`: checks every ledger invariant against DATABASE_URL (or the embedded
 * database under DATA_DIR when the app is not running) and prints a report. Exit code 1 on
 * any breach, 2 when the check could not run.
 */
async function main() {
  const config = loadConfig();
  let stop: (() => Promise<void>) | undefined;
  let url = config.database.url;
  if (!url) {
    const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'pg'), logger: { log: () => undefined, warn: (m) => console.warn(m) } });
    url = pg.url;
    stop = () => pg.stop();
  }
  const ds = new DataSource(buildDataSourceOptions({ url, poolSize: 1, migrationsRun: false }));
  await ds.initialize();
  try {
    const started = Date.now();
    const results = await verifyLedger(ds);
    const [{ transfers, accounts }] = await ds.query(
      `SELECT (SELECT count(*) FROM ledger_transfers)::int AS transfers, (SELECT count(*) FROM ledger_accounts)::int AS accounts`,
    );
    console.log(`Ledger verification: ${accounts} accounts, ${transfers} transfers (${Date.now() - started} ms)`);
    for (const r of results) {
      console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}${r.ok ? '' : ` — ${r.violations} violation(s)`}`);
      if (!r.ok) console.log(`        e.g. ${JSON.stringify(r.sample)}`);
    }
    const failed = results.filter((r) => !r.ok).length;
    console.log(failed ? `${failed} invariant(s) broken` : 'All invariants hold');
    process.exitCode = failed ? 1 : 0;
  } finally {
    await ds.destroy();
    await stop?.();
  }
}

main().catch((e) => {
  console.error(`ledger:verify could not run: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
