import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rewards (SOFT paid from the rewards pool through the ledger) and Watch2Earn (videos with ad
 * slots and milestones, verified watch sessions).
 *
 * - reward_rules: one per action (amount in SOFT minor units, daily cap, cooldown, enabled).
 *   `granted_by = 'server'` actions (watch milestones, ad views, battle votes) are only granted
 *   by verified server flows, never by POST /api/rewards/trigger.
 * - reward_rule_audit: every admin change, with who, when, before and after.
 * - rewards: one row per granted reward, `queued` until the payout job has moved the money,
 *   then `paid`. A partial unique index makes "this user, action and target were rewarded
 *   before" a constraint, not a read-then-write.
 * - reward_counters: one row per user and action: today's count (UTC day) and the last grant,
 *   updated by a guarded UPDATE so concurrent triggers on any instance cannot pass the cap or
 *   the cooldown. Postgres is the truth (a Redis flush loses nothing).
 * - videos, video_ads, video_milestones, watch_sessions: Watch2Earn. A session is the only
 *   source of verified watch time; one active session per user and video.
 */
export class Rewards1764230800000 implements MigrationInterface {
  name = 'Rewards1764230800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE reward_rules (
        action varchar(40) PRIMARY KEY,
        description varchar(200) NOT NULL DEFAULT '',
        amount numeric(78,0) NOT NULL,
        daily_cap int NOT NULL,
        cooldown_seconds int NOT NULL DEFAULT 0,
        enabled boolean NOT NULL DEFAULT true,
        granted_by varchar(10) NOT NULL DEFAULT 'client',
        target_required boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by uuid NULL REFERENCES users(id),
        CONSTRAINT reward_rules_action_format CHECK (action ~ '^[a-z][a-z0-9_]{0,39}$'),
        CONSTRAINT reward_rules_amount_positive CHECK (amount > 0),
        CONSTRAINT reward_rules_cap CHECK (daily_cap >= 0),
        CONSTRAINT reward_rules_cooldown CHECK (cooldown_seconds >= 0),
        CONSTRAINT reward_rules_granted_by CHECK (granted_by IN ('client', 'server'))
      )`);

    // Amounts in SOFT minor units (8 decimals): 10000000 = 0.1 SOFT.
    await q.query(`
      INSERT INTO reward_rules (action, description, amount, daily_cap, cooldown_seconds, granted_by, target_required) VALUES
        ('daily_login',     'Signing in, once a day',                        100000000,   1,  0, 'client', false),
        ('like',            'Liking a post or video',                          10000000,  50,  2, 'client', true),
        ('comment',         'Commenting on a post or video',                   25000000,  20, 15, 'client', true),
        ('share',           'Sharing a post or video',                         50000000,  10, 30, 'client', true),
        ('follow',          'Following a creator',                             20000000,  20,  5, 'client', true),
        ('create_post',     'Publishing a post',                              100000000,   5, 60, 'client', true),
        ('watch_milestone', 'Reaching a watch milestone (verified watching)',  50000000, 100,  0, 'server', true),
        ('ad_view',         'Watching an ad to the end (verified watching)',   20000000,  50,  0, 'server', true),
        ('battle_vote',     'Voting in a live battle',                         10000000,  20,  0, 'server', true)`);

    await q.query(`
      CREATE TABLE reward_rule_audit (
        id bigserial PRIMARY KEY,
        action varchar(40) NOT NULL REFERENCES reward_rules(action),
        actor_id uuid NULL REFERENCES users(id),
        before jsonb NOT NULL,
        after jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX reward_rule_audit_action_idx ON reward_rule_audit (action, id DESC)`);

    await q.query(`
      CREATE TABLE rewards (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        action varchar(40) NOT NULL REFERENCES reward_rules(action),
        target_id varchar(200) NULL,
        context_id uuid NULL,
        amount numeric(78,0) NOT NULL,
        status varchar(10) NOT NULL DEFAULT 'queued',
        day date NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        last_error varchar(300) NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        paid_at timestamptz NULL,
        CONSTRAINT rewards_amount_positive CHECK (amount > 0),
        CONSTRAINT rewards_status CHECK (status IN ('queued', 'paid')),
        CONSTRAINT rewards_paid_at CHECK ((status = 'paid') = (paid_at IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX rewards_once_uq ON rewards (user_id, action, target_id) WHERE target_id IS NOT NULL`);
    await q.query(`CREATE INDEX rewards_user_idx ON rewards (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX rewards_queued_idx ON rewards (created_at) WHERE status = 'queued'`);
    await q.query(`CREATE INDEX rewards_day_idx ON rewards (day, action)`);
    await q.query(`CREATE INDEX rewards_context_idx ON rewards (context_id) WHERE context_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE reward_counters (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        action varchar(40) NOT NULL REFERENCES reward_rules(action),
        day date NOT NULL,
        count int NOT NULL DEFAULT 0,
        last_at timestamptz NULL,
        PRIMARY KEY (user_id, action),
        CONSTRAINT reward_counters_count CHECK (count >= 0)
      )`);

    /*
     * One trigger in one round trip, checks in the contract's order:
     *   duplicate (the partial unique index decides between concurrent claims), disabled (or
     *   the pool cannot cover the amount), cooldown, capped (count per user and UTC day).
     * Cooldown and cap are one guarded UPDATE of the user's counter row: concurrent triggers
     * queue on its row lock and each re-checks the guard against the committed row. A refusal
     * deletes the reward row this call inserted (never visible to anyone else).
     * Returns status 'unknown' | 'duplicate' | 'disabled' | 'pool_exhausted' | 'cooldown' | 'capped' | 'queued'.
     */
    await q.query(`
      CREATE FUNCTION reward_trigger(p_user uuid, p_action text, p_target text, p_context uuid, p_amount numeric, p_pool_key text)
      RETURNS TABLE (status text, reward_id uuid, amount numeric, retry_after_seconds int, created_at timestamptz)
      LANGUAGE plpgsql AS $$
      DECLARE
        r reward_rules%ROWTYPE;
        c reward_counters%ROWTYPE;
        v_now timestamptz := clock_timestamp();
        v_day date := (clock_timestamp() AT TIME ZONE 'UTC')::date;
        v_amount numeric;
        v_pool numeric;
        v_id uuid;
        v_created timestamptz;
        v_count int;
      BEGIN
        SELECT * INTO r FROM reward_rules WHERE action = p_action;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'unknown'::text, NULL::uuid, NULL::numeric, NULL::int, NULL::timestamptz;
          RETURN;
        END IF;
        v_amount := COALESCE(p_amount, r.amount);

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

        INSERT INTO rewards (user_id, action, target_id, context_id, amount, day)
        VALUES (p_user, p_action, p_target, p_context, v_amount, v_day)
        ON CONFLICT (user_id, action, target_id) WHERE target_id IS NOT NULL DO NOTHING
        RETURNING rewards.id, rewards.created_at INTO v_id, v_created;
        IF v_id IS NULL THEN
          RETURN QUERY SELECT 'duplicate'::text, x.id, x.amount, NULL::int, x.created_at
            FROM rewards x WHERE x.user_id = p_user AND x.action = p_action AND x.target_id = p_target;
          RETURN;
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

    // ------------------------------------------------------------------ Watch2Earn

    await q.query(`
      CREATE TABLE videos (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        creator_id uuid NOT NULL REFERENCES users(id),
        title varchar(200) NOT NULL,
        description varchar(5000) NULL,
        url varchar(2048) NOT NULL,
        thumbnail_url varchar(2048) NULL,
        duration_ms int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT videos_duration CHECK (duration_ms > 0 AND duration_ms <= 86400000)
      )`);
    await q.query(`CREATE INDEX videos_recent_idx ON videos (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX videos_creator_idx ON videos (creator_id, created_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE video_ads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        video_id uuid NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        ord smallint NOT NULL,
        position varchar(4) NOT NULL,
        offset_ms int NOT NULL,
        duration_ms int NOT NULL,
        reward numeric(78,0) NOT NULL,
        CONSTRAINT video_ads_position CHECK (position IN ('pre', 'mid', 'post')),
        CONSTRAINT video_ads_offset CHECK (offset_ms >= 0),
        CONSTRAINT video_ads_duration CHECK (duration_ms > 0),
        CONSTRAINT video_ads_reward CHECK (reward > 0)
      )`);
    await q.query(`CREATE INDEX video_ads_video_idx ON video_ads (video_id, ord)`);

    await q.query(`
      CREATE TABLE video_milestones (
        video_id uuid NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        percent smallint NOT NULL,
        reward numeric(78,0) NOT NULL,
        PRIMARY KEY (video_id, percent),
        CONSTRAINT video_milestones_percent CHECK (percent BETWEEN 1 AND 100),
        CONSTRAINT video_milestones_reward CHECK (reward > 0)
      )`);

    /*
     * Verified watching. Times are the database clock (shared by every instance). `tokens_ms`
     * is the unspent wall-clock allowance (a leaky bucket: it grows with real time between
     * heartbeats and is capped), so credited seconds never outrun the clock; `buckets` is a
     * 20-bit map of the 5 % slices of the video this session played (retention curve).
     */
    await q.query(`
      CREATE TABLE watch_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        video_id uuid NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id),
        status varchar(12) NOT NULL DEFAULT 'active',
        started_at timestamptz NOT NULL,
        last_heartbeat_at timestamptz NOT NULL,
        last_position_ms int NOT NULL DEFAULT 0,
        last_playing boolean NOT NULL DEFAULT false,
        last_ad_id uuid NULL,
        tokens_ms int NOT NULL DEFAULT 0,
        watched_ms bigint NOT NULL DEFAULT 0,
        ad_watched_ms bigint NOT NULL DEFAULT 0,
        max_position_ms int NOT NULL DEFAULT 0,
        buckets int NOT NULL DEFAULT 0,
        heartbeats int NOT NULL DEFAULT 0,
        seeks int NOT NULL DEFAULT 0,
        ads jsonb NOT NULL DEFAULT '{}'::jsonb,
        ended_at timestamptz NULL,
        CONSTRAINT watch_sessions_status CHECK (status IN ('active', 'superseded')),
        CONSTRAINT watch_sessions_non_negative CHECK (watched_ms >= 0 AND ad_watched_ms >= 0 AND tokens_ms >= 0)
      )`);
    await q.query(`CREATE UNIQUE INDEX watch_sessions_active_uq ON watch_sessions (user_id, video_id) WHERE status = 'active'`);
    await q.query(`CREATE INDEX watch_sessions_video_idx ON watch_sessions (video_id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE watch_sessions`);
    await q.query(`DROP TABLE video_milestones`);
    await q.query(`DROP TABLE video_ads`);
    await q.query(`DROP TABLE videos`);
    await q.query(`DROP FUNCTION reward_trigger`);
    await q.query(`DROP TABLE reward_counters`);
    await q.query(`DROP TABLE rewards`);
    await q.query(`DROP TABLE reward_rule_audit`);
    await q.query(`DROP TABLE reward_rules`);
  }
}
