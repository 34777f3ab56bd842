import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-user token version: every access token carries the version current when it was minted
 * (`tv`), and a role change raises it in the same UPDATE as the roles. A token with an older
 * version is refused; a sign-in straight after the change gets the new one (exact, unlike a
 * comparison with `iat`, which has one-second resolution).
 */
export class TokenVersion1764231400000 implements MigrationInterface {
  name = 'TokenVersion1764231400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN token_version`);
  }
}
