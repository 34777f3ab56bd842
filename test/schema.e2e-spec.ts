import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { startTestApp, TestApp } from './harness/app';

/**
 * The generated GraphQL schema is committed (schema.gql) so third parties can read the API
 * and reviews show every change to it. `npm run schema:update` rewrites the file.
 */
describe('GraphQL schema file', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('matches the schema the code generates', () => {
    const printed = printSchema(lexicographicSortSchema(t.app.get(GraphQLSchemaHost).schema)) + '\n';
    const file = join(__dirname, '..', 'schema.gql');
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(file, printed);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(printed);
  });
});
