import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * P2P escrow: offers (ads), escrows (one trade each), disputes, an append-only timeline of
 * every transition, and per-user trade counters (reputation).
 *
 * - Crypto amounts are integers in the asset's minor unit (numeric(78,0)), as in the ledger.
 *   Fiat never moves through the ledger (it is paid outside the platform): `price` (fiat per
 *   whole unit of the asset, up to 8 decimals) and `fiat_amount` (2 decimals) are plain decimals.
 * - An escrow's crypto is a ledger hold on the seller's account (`hold_id`), taken in the same
 *   transaction that inserts the escrow; release posts it to the buyer, cancel/refund voids it.
 * - `status` only moves along the contract's state machine; every change is a guarded UPDATE
 *   (`WHERE status = <from>`), so two concurrent actions cannot both win.
 * - The partial indexes on the deadlines serve the sweep that honours windows that ended while
 *   no worker was running.
 */
export class P2P1764230900000 implements MigrationInterface {
  name = 'P2P1764230900000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE p2p_offers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        side varchar(4) NOT NULL,
        asset varchar(10) NOT NULL,
        fiat_currency varchar(3) NOT NULL,
        price numeric(38,8) NOT NULL,
        min_amount numeric(78,0) NOT NULL,
        max_amount numeric(78,0) NOT NULL,
        payment_methods varchar(40)[] NOT NULL,
        payment_window_seconds integer NOT NULL,
        terms varchar(1000) NULL,
        status varchar(8) NOT NULL DEFAULT 'active',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT p2p_offers_side CHECK (side IN ('buy','sell')),
        CONSTRAINT p2p_offers_asset CHECK (asset IN ('BTC','ETH','USDT','USD','SOFT')),
        CONSTRAINT p2p_offers_fiat CHECK (fiat_currency ~ '^[A-Z]{3}$'),
        CONSTRAINT p2p_offers_price CHECK (price > 0),
        CONSTRAINT p2p_offers_limits CHECK (min_amount > 0 AND max_amount >= min_amount),
        CONSTRAINT p2p_offers_methods CHECK (cardinality(payment_methods) BETWEEN 1 AND 10),
        CONSTRAINT p2p_offers_window CHECK (payment_window_seconds BETWEEN 1 AND 86400),
        CONSTRAINT p2p_offers_status CHECK (status IN ('active','paused','closed'))
      )`);
    // The market: active offers of one asset/fiat/side, by price (cursor on price, id).
    await q.query(`CREATE INDEX p2p_offers_market_idx ON p2p_offers (asset, fiat_currency, side, price, id) WHERE status = 'active'`);
    await q.query(`CREATE INDEX p2p_offers_user_idx ON p2p_offers (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX p2p_offers_recent_idx ON p2p_offers (created_at DESC, id DESC) WHERE status = 'active'`);

    await q.query(`
      CREATE TABLE p2p_escrows (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        offer_id uuid NULL REFERENCES p2p_offers(id),
        seller_id uuid NOT NULL REFERENCES users(id),
        buyer_id uuid NOT NULL REFERENCES users(id),
        created_by uuid NOT NULL REFERENCES users(id),
        creation_key varchar(300) NULL,
        asset varchar(10) NOT NULL,
        amount numeric(78,0) NOT NULL,
        fee numeric(78,0) NOT NULL DEFAULT 0,
        price numeric(38,8) NULL,
        fiat_currency varchar(3) NOT NULL,
        fiat_amount numeric(32,2) NOT NULL,
        payment_method varchar(40) NOT NULL,
        payment_window_seconds integer NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'awaiting_payment',
        hold_id uuid NULL REFERENCES ledger_holds(id),
        release_transfer_id uuid NULL REFERENCES ledger_transfers(id),
        fee_transfer_id uuid NULL REFERENCES ledger_transfers(id),
        chat_room_id uuid NULL REFERENCES chat_rooms(id) ON DELETE SET NULL,
        payment_deadline timestamptz NOT NULL,
        release_deadline timestamptz NULL,
        paid_at timestamptz NULL,
        disputed_at timestamptz NULL,
        released_at timestamptz NULL,
        cancelled_at timestamptz NULL,
        refunded_at timestamptz NULL,
        cancel_reason varchar(20) NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT p2p_escrows_creation_key_uq UNIQUE (creation_key),
        CONSTRAINT p2p_escrows_parties CHECK (seller_id <> buyer_id AND created_by IN (seller_id, buyer_id)),
        CONSTRAINT p2p_escrows_asset CHECK (asset IN ('BTC','ETH','USDT','USD','SOFT')),
        CONSTRAINT p2p_escrows_amounts CHECK (amount > 0 AND fee >= 0 AND fiat_amount > 0 AND (price IS NULL OR price > 0)),
        CONSTRAINT p2p_escrows_fiat CHECK (fiat_currency ~ '^[A-Z]{3}$'),
        CONSTRAINT p2p_escrows_window CHECK (payment_window_seconds BETWEEN 1 AND 86400),
        CONSTRAINT p2p_escrows_status CHECK (status IN ('awaiting_payment','paid','disputed','released','cancelled','refunded')),
        CONSTRAINT p2p_escrows_cancel_reason CHECK (
          (status = 'cancelled' AND cancel_reason IN ('buyer_cancelled','payment_timeout')) OR (status <> 'cancelled' AND cancel_reason IS NULL)),
        CONSTRAINT p2p_escrows_paid CHECK (status IN ('awaiting_payment','cancelled') OR (paid_at IS NOT NULL AND release_deadline IS NOT NULL)),
        CONSTRAINT p2p_escrows_released CHECK (status <> 'released' OR (released_at IS NOT NULL AND release_transfer_id IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX p2p_escrows_seller_idx ON p2p_escrows (seller_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX p2p_escrows_buyer_idx ON p2p_escrows (buyer_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX p2p_escrows_offer_idx ON p2p_escrows (offer_id) WHERE offer_id IS NOT NULL`);
    await q.query(`CREATE INDEX p2p_escrows_payment_due_idx ON p2p_escrows (payment_deadline) WHERE status = 'awaiting_payment'`);
    await q.query(`CREATE INDEX p2p_escrows_release_due_idx ON p2p_escrows (release_deadline) WHERE status = 'paid'`);
    await q.query(`CREATE INDEX p2p_escrows_status_idx ON p2p_escrows (status, created_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE p2p_disputes (
        escrow_id uuid PRIMARY KEY REFERENCES p2p_escrows(id),
        opened_by uuid NULL REFERENCES users(id),
        opened_by_role varchar(8) NOT NULL,
        reason varchar(1000) NOT NULL,
        evidence jsonb NOT NULL DEFAULT '[]'::jsonb,
        seal_hash varchar(64) NOT NULL,
        sealed_chat_seq bigint NOT NULL DEFAULT 0,
        opened_at timestamptz NOT NULL DEFAULT now(),
        outcome varchar(8) NULL,
        resolution_note varchar(2000) NULL,
        resolved_by uuid NULL REFERENCES users(id),
        resolved_at timestamptz NULL,
        CONSTRAINT p2p_disputes_role CHECK (opened_by_role IN ('buyer','seller','system') AND (opened_by IS NULL) = (opened_by_role = 'system')),
        CONSTRAINT p2p_disputes_evidence CHECK (jsonb_typeof(evidence) = 'array'),
        CONSTRAINT p2p_disputes_seal CHECK (seal_hash ~ '^[0-9a-f]{64}$'),
        CONSTRAINT p2p_disputes_outcome CHECK (
          (outcome IS NULL AND resolved_at IS NULL AND resolved_by IS NULL) OR
          (outcome IN ('release','refund') AND resolved_at IS NOT NULL AND resolved_by IS NOT NULL))
      )`);

    await q.query(`
      CREATE TABLE p2p_escrow_events (
        id bigserial PRIMARY KEY,
        escrow_id uuid NOT NULL REFERENCES p2p_escrows(id),
        from_status varchar(16) NULL,
        to_status varchar(16) NOT NULL,
        actor_id uuid NULL REFERENCES users(id),
        actor_role varchar(8) NOT NULL,
        note varchar(2000) NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT p2p_escrow_events_role CHECK (actor_role IN ('buyer','seller','admin','system'))
      )`);
    await q.query(`CREATE INDEX p2p_escrow_events_escrow_idx ON p2p_escrow_events (escrow_id, id)`);

    await q.query(`
      CREATE TABLE p2p_user_stats (
        user_id uuid PRIMARY KEY REFERENCES users(id),
        completed_trades integer NOT NULL DEFAULT 0,
        failed_trades integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT p2p_user_stats_non_negative CHECK (completed_trades >= 0 AND failed_trades >= 0)
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE p2p_user_stats`);
    await q.query(`DROP TABLE p2p_escrow_events`);
    await q.query(`DROP TABLE p2p_disputes`);
    await q.query(`DROP TABLE p2p_escrows`);
    await q.query(`DROP TABLE p2p_offers`);
  }
}
