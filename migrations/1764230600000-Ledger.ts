import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Double-entry ledger. Amounts are integers in the asset's minor unit (numeric(78,0)).
 * - ledger_accounts: one per user × asset and per system purpose × asset. `posted` is the
 *   balance (sum of entries); `held` the part reserved by pending holds. The database refuses a
 *   negative available balance (CHECK), except for the external-world account that deposits
 *   come from (its negative posted balance is what came in minus what went out).
 * - ledger_transfers: immutable movements; each has exactly two entries summing to zero.
 * - ledger_holds: pending transfers (TigerBeetle's two-phase model), posted in part or in full
 *   to any account, or voided.
 */
export class Ledger1764230600000 implements MigrationInterface {
  name = 'Ledger1764230600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ledger_accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_key varchar(120) NOT NULL,
        owner_type varchar(8) NOT NULL,
        user_id uuid NULL REFERENCES users(id),
        purpose varchar(40) NOT NULL,
        asset varchar(10) NOT NULL,
        posted numeric(78,0) NOT NULL DEFAULT 0,
        held numeric(78,0) NOT NULL DEFAULT 0,
        allow_negative boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ledger_accounts_key_uq UNIQUE (account_key),
        CONSTRAINT ledger_accounts_owner CHECK ((owner_type = 'user' AND user_id IS NOT NULL) OR (owner_type = 'system' AND user_id IS NULL)),
        CONSTRAINT ledger_accounts_asset CHECK (asset IN ('BTC','ETH','USDT','USD','SOFT')),
        CONSTRAINT ledger_accounts_held_non_negative CHECK (held >= 0),
        CONSTRAINT ledger_accounts_available_non_negative CHECK (allow_negative OR posted - held >= 0)
      )`);
    await q.query(`CREATE INDEX ledger_accounts_user_idx ON ledger_accounts (user_id) WHERE user_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE ledger_holds (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        idempotency_key varchar(200) NULL,
        account_id uuid NOT NULL REFERENCES ledger_accounts(id),
        asset varchar(10) NOT NULL,
        amount numeric(78,0) NOT NULL,
        remaining numeric(78,0) NOT NULL,
        status varchar(10) NOT NULL DEFAULT 'pending',
        kind varchar(40) NOT NULL,
        reference varchar(200) NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ledger_holds_key_uq UNIQUE (idempotency_key),
        CONSTRAINT ledger_holds_amount CHECK (amount > 0 AND remaining >= 0 AND remaining <= amount),
        CONSTRAINT ledger_holds_status CHECK (status IN ('pending','posted','voided')),
        CONSTRAINT ledger_holds_closed CHECK (status = 'pending' OR remaining = 0)
      )`);
    await q.query(`CREATE INDEX ledger_holds_pending_idx ON ledger_holds (account_id) WHERE status = 'pending'`);

    await q.query(`
      CREATE TABLE ledger_transfers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        idempotency_key varchar(200) NULL,
        kind varchar(40) NOT NULL,
        debit_account_id uuid NOT NULL REFERENCES ledger_accounts(id),
        credit_account_id uuid NOT NULL REFERENCES ledger_accounts(id),
        asset varchar(10) NOT NULL,
        amount numeric(78,0) NOT NULL,
        hold_id uuid NULL REFERENCES ledger_holds(id),
        reference varchar(200) NULL,
        metadata jsonb NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ledger_transfers_key_uq UNIQUE (idempotency_key),
        CONSTRAINT ledger_transfers_amount_positive CHECK (amount > 0),
        CONSTRAINT ledger_transfers_distinct_accounts CHECK (debit_account_id <> credit_account_id)
      )`);
    await q.query(`CREATE INDEX ledger_transfers_hold_idx ON ledger_transfers (hold_id) WHERE hold_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE ledger_entries (
        id bigserial PRIMARY KEY,
        transfer_id uuid NOT NULL REFERENCES ledger_transfers(id),
        account_id uuid NOT NULL REFERENCES ledger_accounts(id),
        counterparty_account_id uuid NOT NULL REFERENCES ledger_accounts(id),
        asset varchar(10) NOT NULL,
        amount numeric(78,0) NOT NULL,
        balance_after numeric(78,0) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ledger_entries_nonzero CHECK (amount <> 0)
      )`);
    await q.query(`CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id DESC)`);
    await q.query(`CREATE INDEX ledger_entries_transfer_idx ON ledger_entries (transfer_id)`);

    // Entries and transfers are history: never updated, never deleted.
    await q.query(`
      CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger history is immutable (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = '42501';
      END $$`);
    await q.query(`CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_immutable()`);
    await q.query(`CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE ON ledger_transfers FOR EACH ROW EXECUTE FUNCTION ledger_immutable()`);

    /*
     * One movement in one round trip: claims the idempotency key, moves both balances in a
     * fixed lock order (by account id, so opposite transfers cannot deadlock), refuses a debit
     * the available balance does not cover (SQLSTATE SC422), and writes both entries.
     * p_release > 0 debits a hold: `held` drops by p_release (the posted amount plus any
     * remainder released). A key seen before returns the earlier transfer with replayed = true.
     */
    await q.query(`
      CREATE FUNCTION ledger_post(
        p_key text, p_kind text, p_debit uuid, p_credit uuid, p_asset text, p_amount numeric,
        p_release numeric, p_hold uuid, p_reference text, p_metadata jsonb
      ) RETURNS TABLE (transfer_id uuid, created_at timestamptz, debit_after numeric, credit_after numeric, replayed boolean)
      LANGUAGE plpgsql AS $$
      DECLARE
        v_id uuid;
        v_created timestamptz;
        v_debit numeric;
        v_credit numeric;
      BEGIN
        INSERT INTO ledger_transfers (idempotency_key, kind, debit_account_id, credit_account_id, asset, amount, hold_id, reference, metadata)
        VALUES (p_key, p_kind, p_debit, p_credit, p_asset, p_amount, p_hold, p_reference, p_metadata)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, ledger_transfers.created_at INTO v_id, v_created;
        IF v_id IS NULL THEN
          RETURN QUERY SELECT t.id, t.created_at, NULL::numeric, NULL::numeric, true FROM ledger_transfers t WHERE t.idempotency_key = p_key;
          RETURN;
        END IF;

        IF p_debit < p_credit THEN
          IF p_release > 0 THEN
            UPDATE ledger_accounts SET posted = posted - p_amount, held = held - p_release, updated_at = now()
              WHERE id = p_debit RETURNING posted INTO v_debit;
          ELSE
            UPDATE ledger_accounts SET posted = posted - p_amount, updated_at = now()
              WHERE id = p_debit AND (allow_negative OR posted - held >= p_amount) RETURNING posted INTO v_debit;
          END IF;
          IF v_debit IS NULL THEN
            RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'SC422';
          END IF;
          UPDATE ledger_accounts SET posted = posted + p_amount, updated_at = now() WHERE id = p_credit RETURNING posted INTO v_credit;
        ELSE
          UPDATE ledger_accounts SET posted = posted + p_amount, updated_at = now() WHERE id = p_credit RETURNING posted INTO v_credit;
          IF p_release > 0 THEN
            UPDATE ledger_accounts SET posted = posted - p_amount, held = held - p_release, updated_at = now()
              WHERE id = p_debit RETURNING posted INTO v_debit;
          ELSE
            UPDATE ledger_accounts SET posted = posted - p_amount, updated_at = now()
              WHERE id = p_debit AND (allow_negative OR posted - held >= p_amount) RETURNING posted INTO v_debit;
          END IF;
          IF v_debit IS NULL THEN
            RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'SC422';
          END IF;
        END IF;
        IF v_credit IS NULL THEN
          RAISE EXCEPTION 'ledger account % does not exist', p_credit USING ERRCODE = 'SC404';
        END IF;

        INSERT INTO ledger_entries (transfer_id, account_id, counterparty_account_id, asset, amount, balance_after)
        VALUES (v_id, p_debit, p_credit, p_asset, -p_amount, v_debit), (v_id, p_credit, p_debit, p_asset, p_amount, v_credit);

        RETURN QUERY SELECT v_id, v_created, v_debit, v_credit, false;
      END $$`);

    // A stable deposit-address index per user (BIP32 child index).
    await q.query(`
      CREATE TABLE wallet_address_indexes (
        user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        address_index serial NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE wallet_address_indexes`);
    await q.query(`DROP TABLE ledger_entries`);
    await q.query(`DROP TABLE ledger_transfers`);
    await q.query(`DROP FUNCTION ledger_post`);
    await q.query(`DROP FUNCTION ledger_immutable CASCADE`);
    await q.query(`DROP TABLE ledger_holds`);
    await q.query(`DROP TABLE ledger_accounts`);
  }
}
