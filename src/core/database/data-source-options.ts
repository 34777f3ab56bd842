import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from './snake-naming.strategy';

/** Migrations live at the repository root (`migrations/`), compiled beside `dist/src` in production. */
export const MIGRATIONS_GLOB = join(__dirname, '..', '..', '..', 'migrations', '*.{ts,js}');

export interface DbOptionsInput {
  url: string;
  poolSize: number;
  migrationsRun: boolean;
  logQueries?: boolean;
  entities?: DataSourceOptions['entities'];
}

export function buildDataSourceOptions(input: DbOptionsInput): DataSourceOptions {
  return {
    type: 'postgres',
    url: input.url,
    entities: input.entities ?? [join(__dirname, '..', '..', 'modules', '**', '*.entity.{ts,js}')],
    migrations: [MIGRATIONS_GLOB],
    migrationsRun: input.migrationsRun,
    migrationsTransactionMode: 'each',
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    // Failed queries are not logged here: expected refusals (insufficient funds, unique keys)
    // are business outcomes, and unexpected ones are logged once by the exception filter.
    logging: input.logQueries ? ['query', 'error'] : ['migration'],
    extra: {
      max: input.poolSize,
      // Fail fast instead of queueing forever when the pool is exhausted or the server is gone.
      connectionTimeoutMillis: 10_000,
      // A single-connection pool (the embedded PGlite) must keep its one connection open:
      // PGlite frees its only slot lazily, and reconnecting at once can fail.
      idleTimeoutMillis: input.poolSize === 1 ? 0 : 30_000,
      application_name: 'softchat-realtime',
    },
  };
}
