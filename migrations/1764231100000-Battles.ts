import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live battles (src/modules/battles).
 *
 * - battles: one row per battle. `status` goes `live` → `ended` exactly once (a conditional
 *   UPDATE ... WHERE status = 'live'), which also fixes the winner, the result hash and what
 *   happened to the prize. A vote holds a FOR SHARE lock on its battle's row until it commits
 *   (votes run side by side), and the end's UPDATE needs that row exclusively: the end waits for
 *   votes in flight, and a vote arriving after it finds the battle ended. `log_salt` keys the
 *   HMAC that pseudonymises voters in the published vote log (never served). `prize_hold_id` is
 *   the creator's ledger hold funding the optional prize pool.
 * - battle_participants: 2–8 per battle, in the order the creator listed them (`position`),
 *   with their share of the prize once ended.
 * - battle_votes: the vote log, in `id` order (an identity: insertion order; the published log
 *   numbers it 1..n). Tallies are counted from it (index on participant), so no counter row is
 *   a hot spot under a burst of votes. UNIQUE (battle_id, voter_id) is what makes "one vote per
 *   user per battle" true under any concurrency; the composite foreign key makes a vote for
 *   someone who is not a participant impossible.
 * The `battle_vote` reward rule was seeded by the Rewards migration.
 */
export class Battles1764231100000 implements MigrationInterface {
  name = 'Battles1764231100000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE battles (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        title varchar(120) NOT NULL,
        status varchar(10) NOT NULL DEFAULT 'live',
        created_by uuid NOT NULL REFERENCES users(id),
        creation_key varchar(300) NULL UNIQUE,
        duration_seconds int NOT NULL,
        ends_at timestamptz NOT NULL,
        log_salt varchar(64) NOT NULL,
        prize_asset varchar(10) NULL,
        prize_amount numeric(78,0) NULL,
        prize_hold_id uuid NULL REFERENCES ledger_holds(id),
        prize_outcome varchar(10) NULL,
        winner_id uuid NULL REFERENCES users(id),
        result_hash char(64) NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz NULL,
        CONSTRAINT battles_status CHECK (status IN ('live', 'ended')),
        CONSTRAINT battles_duration CHECK (duration_seconds BETWEEN 1 AND 86400),
        CONSTRAINT battles_prize CHECK ((prize_asset IS NULL) = (prize_amount IS NULL) AND (prize_amount IS NULL OR prize_amount > 0)),
        CONSTRAINT battles_prize_outcome CHECK (prize_outcome IS NULL OR prize_outcome IN ('paid', 'split', 'refunded')),
        CONSTRAINT battles_ended CHECK ((status = 'ended') = (ended_at IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX battles_list_idx ON battles ((status = 'live') DESC, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX battles_live_ends_idx ON battles (ends_at) WHERE status = 'live'`);

    await q.query(`
      CREATE TABLE battle_participants (
        battle_id uuid NOT NULL REFERENCES battles(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id),
        position smallint NOT NULL,
        prize_amount numeric(78,0) NULL,
        PRIMARY KEY (battle_id, user_id),
        CONSTRAINT battle_participants_position UNIQUE (battle_id, position),
        CONSTRAINT battle_participants_prize CHECK (prize_amount IS NULL OR prize_amount > 0)
      )`);
    await q.query(`CREATE INDEX battle_participants_user_idx ON battle_participants (user_id)`);

    await q.query(`
      CREATE TABLE battle_votes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        battle_id uuid NOT NULL,
        voter_id uuid NOT NULL REFERENCES users(id),
        participant_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT battle_votes_one_per_user UNIQUE (battle_id, voter_id),
        CONSTRAINT battle_votes_participant FOREIGN KEY (battle_id, participant_id)
          REFERENCES battle_participants (battle_id, user_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX battle_votes_tally_idx ON battle_votes (battle_id, participant_id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE battle_votes`);
    await q.query(`DROP TABLE battle_participants`);
    await q.query(`DROP TABLE battles`);
  }
}
