import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hardening (issue 11, points 7–16):
 * - watch_sessions.beat_budget_ms: the heartbeat token bucket (a session starts with a full one,
 *   so the first heartbeat right after the start is accepted, and jitter is absorbed).
 * - Reward bounds: the rule's amount caps a claim (a creator's larger amount is paid at the
 *   rule's), rewards remember the creator they are paid on behalf of, and a per-creator daily
 *   budget (default from REWARDS_CREATOR_DAILY_BUDGET, admin override global or per creator) is
 *   spent by a guarded UPDATE inside `reward_trigger`, so concurrent claims never overshoot it.
 *   The new trigger is an overload with two more arguments (creator, default budget); the
 *   six-argument one is left for `down` and no longer called.
 * - chat_rooms.kind: 'system' rooms (P2P trade chats) have no owner and fixed membership.
 * - outbox: side effects written in the state change's transaction, delivered by a job.
 */
export class Hardening1764231500000 implements MigrationInterface {
  name = 'Hardening1764231500000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE watch_sessions ADD COLUMN beat_budget_ms int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE watch_sessions ADD CONSTRAINT watch_sessions_beat_budget CHECK (beat_budget_ms >= 0)`);

    await q.query(`ALTER TABLE rewards ADD COLUMN creator_id uuid NULL REFERENCES users(id)`);
    await q.query(`CREATE INDEX rewards_creator_day_idx ON rewards (creator_id, day, user_id) WHERE creator_id IS NOT NULL`);
    await q.query(`
      UPDATE rewards r SET creator_id = v.creator_id FROM videos v
      WHERE r.context_id = v.id AND r.action IN ('watch_milestone', 'ad_view')`);
    /* scope: 'default' or a creator's id; amount in SOFT minor units. */
    await q.query(`
      CREATE TABLE reward_creator_budgets (
        scope varchar(36) PRIMARY KEY,
        amount numeric(78,0) NOT NULL,
        updated_by uuid NULL REFERENCES users(id),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT reward_creator_budgets_amount CHECK (amount >= 0)
      )`);
    await q.query(`
      CREATE TABLE reward_creator_spend (
        creator_id uuid NOT NULL REFERENCES users(id),
        day date NOT NULL,
        spent numeric(78,0) NOT NULL DEFAULT 0,
        PRIMARY KEY (creator_id, day),
        CONSTRAINT reward_creator_spend_non_negative CHECK (spent >= 0)
      )`);

    /*
     * As the six-argument version, plus: the amount is capped at the rule's; with a creator,
     * the creator's daily budget is spent first (guarded UPDATE on one row per creator and day:
     * concurrent claims queue on its lock and re-check), and given back if the viewer's cap or
     * cooldown then refuses. Lock order: budget row, then the viewer's counter row.
     * Adds the status 'budget_exhausted'.
     */
    await q.query(`
      CREATE FUNCTION reward_trigger(p_user uuid, p_action text, p_target text, p_context uuid, p_amount numeric, p_pool_key text,
                                     p_creator uuid, p_default_budget numeric)
      RETURNS TABLE (status text, reward_id uuid, amount numeric, retry_after_seconds int, created_at timestamptz)
      LANGUAGE plpgsql AS $$
      DECLARE
        r reward_rules%ROWTYPE;
        c reward_counters%ROWTYPE;
        v_now timestamptz := clock_timestamp();
        v_day date := (clock_timestamp() AT TIME ZONE 'UTC')::date;
        v_amount numeric;
        v_pool numeric;
        v_budget numeric;
        v_spent numeric;
        v_id uuid;
        v_created timestamptz;
        v_count int;
      BEGIN
        SELECT * INTO r FROM reward_rules WHERE action = p_action;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'unknown'::text, NULL::uuid, NULL::numeric, NULL::int, NULL::timestamptz;
          RETURN;
        END IF;
        v_amount := LEAST(COALESCE(p_amount, r.amount), r.amount);

        IF p_target IS NOT NULL THEN
          RETURN QUERY SELECT 'duplicate'::text, x.id, x.amount, NULL::int, x.created_at
            FROM rewards x WHERE x.user_id = p_user AND x.action = p_action AND x.target_id = p_target;
          IF FOUND THEN RETURN; END IF;
        END IF;

        IF NOT r.enabled THEN
          RETURN QUERY SELECT 'disabled'::text, NULL::uuid, NULL::numeric, NULL::int, NULL::timestamptz;
          RETURN;
        END IF;
        SELECT a.posted - a.held INTO v_pool FROM ledger_accounts a WHERE a.account_key = p_pool_key;
        IF COALESCE(v_pool, 0) < v_amount THEN
          RETURN QUERY SELECT 'pool_exhausted'::text, NULL::uuid, NULL::numeric, NULL::int, NULL::timestamptz;
          RETURN;
        END IF;

        INSERT INTO rewards (user_id, action, target_id, context_id, amount, day, creator_id)
        VALUES (p_user, p_action, p_target, p_context, v_amount, v_day, p_creator)
        ON CONFLICT (user_id, action, target_id) WHERE target_id IS NOT NULL DO NOTHING
        RETURNING rewards.id, rewards.created_at INTO v_id, v_created;
        IF v_id IS NULL THEN
          RETURN QUERY SELECT 'duplicate'::text, x.id, x.amount, NULL::int, x.created_at
            FROM rewards x WHERE x.user_id = p_user AND x.action = p_action AND x.target_id = p_target;
          RETURN;
        END IF;

        IF p_creator IS NOT NULL THEN
          SELECT b.amount INTO v_budget FROM reward_creator_budgets b WHERE b.scope = p_creator::text;
          IF v_budget IS NULL THEN
            SELECT b.amount INTO v_budget FROM reward_creator_budgets b WHERE b.scope = 'default';
          END IF;
          v_budget := COALESCE(v_budget, p_default_budget, 0);
          INSERT INTO reward_creator_spend (creator_id, day) VALUES (p_creator, v_day) ON CONFLICT DO NOTHING;
          UPDATE reward_creator_spend s SET spent = s.spent + v_amount
           WHERE s.creator_id = p_creator AND s.day = v_day AND s.spent + v_amount <= v_budget
          RETURNING s.spent INTO v_spent;
          IF v_spent IS NULL THEN
            DELETE FROM rewards WHERE id = v_id;
            RETURN QUERY SELECT 'budget_exhausted'::text, NULL::uuid, NULL::numeric,
              GREATEST(1, ceil(extract(epoch FROM (((v_day + 1)::timestamp AT TIME ZONE 'UTC') - clock_timestamp()))))::int, NULL::timestamptz;
            RETURN;
          END IF;
        END IF;

        INSERT INTO reward_counters (user_id, action, day, count) VALUES (p_user, p_action, v_day, 0)
        ON CONFLICT (user_id, action) DO NOTHING;
        UPDATE reward_counters k
           SET count = CASE WHEN k.day = v_day THEN k.count + 1 ELSE 1 END, day = v_day, last_at = v_now
         WHERE k.user_id = p_user AND k.action = p_action
           AND (r.cooldown_seconds = 0 OR k.last_at IS NULL OR k.last_at + make_interval(secs => r.cooldown_seconds) <= v_now)
           AND (CASE WHEN k.day = v_day THEN k.count ELSE 0 END) < r.daily_cap
        RETURNING k.count INTO v_count;

        IF v_count IS NULL THEN
          DELETE FROM rewards WHERE id = v_id;
          IF p_creator IS NOT NULL THEN
            UPDATE reward_creator_spend s SET spent = s.spent - v_amount WHERE s.creator_id = p_creator AND s.day = v_day;
          END IF;
          SELECT * INTO c FROM reward_counters k WHERE k.user_id = p_user AND k.action = p_action;
          v_now := clock_timestamp();
          IF r.cooldown_seconds > 0 AND c.last_at IS NOT NULL AND c.last_at + make_interval(secs => r.cooldown_seconds) > v_now THEN
            RETURN QUERY SELECT 'cooldown'::text, NULL::uuid, NULL::numeric,
              GREATEST(1, ceil(extract(epoch FROM (c.last_at + make_interval(secs => r.cooldown_seconds) - v_now))))::int, NULL::timestamptz;
          ELSE
            RETURN QUERY SELECT 'capped'::text, NULL::uuid, NULL::numeric,
              GREATEST(1, ceil(extract(epoch FROM (((v_day + 1)::timestamp AT TIME ZONE 'UTC') - v_now))))::int, NULL::timestamptz;
          END IF;
          RETURN;
        END IF;

        RETURN QUERY SELECT 'queued'::text, v_id, v_amount, NULL::int, v_created;
      END $$`);

    await q.query(`ALTER TABLE chat_rooms ADD COLUMN kind varchar(16) NOT NULL DEFAULT 'user'`);
    await q.query(`ALTER TABLE chat_rooms ADD CONSTRAINT chat_rooms_kind_valid CHECK (kind IN ('user', 'system'))`);
    // Existing trade chats become system rooms: no owner, fixed membership.
    await q.query(`UPDATE chat_rooms SET kind = 'system', created_by = NULL WHERE id IN (SELECT chat_room_id FROM p2p_escrows WHERE chat_room_id IS NOT NULL)`);
    await q.query(`UPDATE chat_room_members SET role = 'member' WHERE room_id IN (SELECT id FROM chat_rooms WHERE kind = 'system')`);

    await q.query(`
      CREATE TABLE outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind varchar(60) NOT NULL,
        payload jsonb NOT NULL,
        dedupe_key varchar(200) NULL,
        attempts int NOT NULL DEFAULT 0,
        last_error varchar(300) NULL,
        claimed_until timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz NULL,
        CONSTRAINT outbox_dedupe_uq UNIQUE (dedupe_key),
        CONSTRAINT outbox_kind_format CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,59}$')
      )`);
    await q.query(`CREATE INDEX outbox_pending_idx ON outbox (created_at) WHERE delivered_at IS NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
    await q.query(`UPDATE chat_room_members m SET role = 'owner' FROM p2p_escrows e WHERE e.chat_room_id = m.room_id AND m.user_id = e.seller_id`);
    await q.query(`UPDATE chat_rooms r SET created_by = e.seller_id FROM p2p_escrows e WHERE e.chat_room_id = r.id`);
    await q.query(`ALTER TABLE chat_rooms DROP CONSTRAINT chat_rooms_kind_valid`);
    await q.query(`ALTER TABLE chat_rooms DROP COLUMN kind`);
    await q.query(`DROP FUNCTION reward_trigger(uuid, text, text, uuid, numeric, text, uuid, numeric)`);
    await q.query(`DROP TABLE reward_creator_spend`);
    await q.query(`DROP TABLE reward_creator_budgets`);
    await q.query(`DROP INDEX rewards_creator_day_idx`);
    await q.query(`ALTER TABLE rewards DROP COLUMN creator_id`);
    await q.query(`ALTER TABLE watch_sessions DROP CONSTRAINT watch_sessions_beat_budget`);
    await q.query(`ALTER TABLE watch_sessions DROP COLUMN beat_budget_ms`);
  }
}
