import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creator economy: follows, tips, milestones.
 *
 * - creator_follows: who follows whom now (one row per fan and creator, never oneself).
 *   creator_follow_events: every follow (+1) and unfollow (-1), so the daily series can say how
 *   many followers a creator had at the end of any day. creator_counters: the follower count,
 *   kept in the same transaction as the follow, for "most followed" listings.
 * - creator_tips: one row per tip with the gross amount and the fee (minor units, as in the
 *   ledger); the money itself moves through the ledger in the same transaction (`transfer_id`,
 *   `fee_transfer_id`). `creation_key` (fan + Idempotency-Key) makes a replay find the first tip.
 * - creator_milestones: the default ladder and creator-defined targets, in base units
 *   (followers and views: counts; watch_hours: seconds; earnings: minor units of `asset`).
 *   `achieved_at` is only ever set by `UPDATE ... WHERE achieved_at IS NULL`, so exactly once.
 */
export class Creator1764231000000 implements MigrationInterface {
  name = 'Creator1764231000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE creator_follows (
        creator_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        follower_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (creator_id, follower_id),
        CONSTRAINT creator_follows_not_self CHECK (creator_id <> follower_id)
      )`);
    await q.query(`CREATE INDEX creator_follows_follower_idx ON creator_follows (follower_id)`);
    await q.query(`
      CREATE TABLE creator_follow_events (
        id bigserial PRIMARY KEY,
        creator_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        follower_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        delta smallint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT creator_follow_events_delta CHECK (delta IN (-1, 1))
      )`);
    await q.query(`CREATE INDEX creator_follow_events_creator_idx ON creator_follow_events (creator_id, created_at)`);
    await q.query(`
      CREATE TABLE creator_counters (
        creator_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        followers integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT creator_counters_followers CHECK (followers >= 0)
      )`);
    await q.query(`CREATE INDEX creator_counters_followers_idx ON creator_counters (followers DESC, creator_id)`);
    await q.query(`
      CREATE TABLE creator_tips (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        creator_id uuid NOT NULL REFERENCES users(id),
        from_user_id uuid NOT NULL REFERENCES users(id),
        asset varchar(10) NOT NULL,
        amount numeric(78,0) NOT NULL,
        fee numeric(78,0) NOT NULL DEFAULT 0,
        message varchar(280) NULL,
        video_id uuid NULL REFERENCES videos(id) ON DELETE SET NULL,
        creation_key varchar(300) NULL,
        transfer_id uuid NULL REFERENCES ledger_transfers(id),
        fee_transfer_id uuid NULL REFERENCES ledger_transfers(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT creator_tips_asset CHECK (asset IN ('BTC','ETH','USDT','USD','SOFT')),
        CONSTRAINT creator_tips_amount CHECK (amount > 0 AND fee >= 0 AND fee < amount),
        CONSTRAINT creator_tips_not_self CHECK (creator_id <> from_user_id)
      )`);
    await q.query(`CREATE UNIQUE INDEX creator_tips_creation_key_uq ON creator_tips (creation_key)`);
    await q.query(`CREATE INDEX creator_tips_creator_idx ON creator_tips (creator_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX creator_tips_video_idx ON creator_tips (video_id) WHERE video_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE creator_milestones (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        creator_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        metric varchar(12) NOT NULL,
        asset varchar(10) NOT NULL DEFAULT '',
        target numeric(78,0) NOT NULL,
        custom boolean NOT NULL DEFAULT false,
        achieved_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT creator_milestones_metric CHECK (metric IN ('followers','views','watch_hours','earnings')),
        CONSTRAINT creator_milestones_asset CHECK ((metric = 'earnings') = (asset <> '')),
        CONSTRAINT creator_milestones_target CHECK (target > 0)
      )`);
    await q.query(`CREATE UNIQUE INDEX creator_milestones_uq ON creator_milestones (creator_id, metric, asset, target)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE creator_milestones`);
    await q.query(`DROP TABLE creator_tips`);
    await q.query(`DROP TABLE creator_counters`);
    await q.query(`DROP TABLE creator_follow_events`);
    await q.query(`DROP TABLE creator_follows`);
  }
}
