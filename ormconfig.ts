import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './src/core/database/data-source-options';

/**
 * Data source for the TypeORM CLI (`npm run migration:generate|run|revert`).
 * It needs a real server: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/softchat).
 */
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('Set DATABASE_URL for the TypeORM CLI, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/softchat');
}

export default new DataSource(buildDataSourceOptions({ url, poolSize: 2, migrationsRun: false, logQueries: false }));
