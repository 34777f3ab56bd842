import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payments (top-ups through an outside provider) and every provider event received.
 *
 * - Amounts are integers in the asset's minor unit (numeric(78,0)), as in the ledger; every
 *   checkout is priced in and credits USD.
 * - `credited`, `reversed` and `refund_target` are the facts the pure machine
 *   (src/modules/payments/payment.machine.ts) decides from; money itself only moves through
 *   the ledger, keyed `payment:<id>:credit` (once per payment) and `payment:<id>:reverse:<event>`.
 * - `creation_key` makes a checkout retried with the same Idempotency-Key create one payment.
 * - `payment_events` holds each provider event once (unique provider + provider event id),
 *   whether or not it matched a payment yet: an event that arrives before the payment learns
 *   the reference it names (a Stripe refund names the PaymentIntent) is adopted later.
 */
export class Payments1764231200000 implements MigrationInterface {
  name = 'Payments1764231200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        provider varchar(32) NOT NULL,
        asset varchar(10) NOT NULL,
        amount numeric(78,0) NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending',
        creation_key varchar(320) NULL,
        provider_ref varchar(255) NULL,
        provider_payment_ref varchar(255) NULL,
        checkout_url text NULL,
        client_secret text NULL,
        credited numeric(78,0) NOT NULL DEFAULT 0,
        reversed numeric(78,0) NOT NULL DEFAULT 0,
        refund_target numeric(78,0) NOT NULL DEFAULT 0,
        shortfall numeric(78,0) NOT NULL DEFAULT 0,
        flagged boolean NOT NULL DEFAULT false,
        flag_reasons text[] NOT NULL DEFAULT '{}',
        failure_reason varchar(500) NULL,
        expires_at timestamptz NOT NULL,
        last_checked_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz NULL,
        CONSTRAINT payments_provider CHECK (provider IN ('stripe','paypal','flutterwave','coinbase_commerce','bitpay','coinpayments')),
        CONSTRAINT payments_asset CHECK (asset = 'USD'),
        CONSTRAINT payments_amount CHECK (amount > 0),
        CONSTRAINT payments_status CHECK (status IN ('pending','succeeded','failed','expired','refunded')),
        CONSTRAINT payments_money CHECK (credited >= 0 AND reversed >= 0 AND refund_target >= 0 AND shortfall >= 0 AND reversed <= credited)
      )`);
    await q.query(`CREATE UNIQUE INDEX payments_creation_key_uq ON payments (creation_key) WHERE creation_key IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX payments_provider_ref_uq ON payments (provider, provider_ref) WHERE provider_ref IS NOT NULL`);
    await q.query(`CREATE INDEX payments_provider_payment_ref_idx ON payments (provider, provider_payment_ref) WHERE provider_payment_ref IS NOT NULL`);
    await q.query(`CREATE INDEX payments_user_idx ON payments (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX payments_recent_idx ON payments (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX payments_pending_idx ON payments (created_at) WHERE status = 'pending'`);

    await q.query(`
      CREATE TABLE payment_events (
        id bigserial PRIMARY KEY,
        provider varchar(32) NOT NULL,
        provider_event_id varchar(255) NOT NULL,
        payment_id uuid NULL REFERENCES payments(id),
        kind varchar(16) NOT NULL,
        provider_ref varchar(255) NULL,
        amount numeric(78,0) NULL,
        currency varchar(10) NULL,
        source varchar(16) NOT NULL,
        outcome varchar(300) NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT payment_events_kind CHECK (kind IN ('paid','pending','failed','expired','refunded','disputed','ignored')),
        CONSTRAINT payment_events_source CHECK (source IN ('webhook','reconcile')),
        CONSTRAINT payment_events_uq UNIQUE (provider, provider_event_id)
      )`);
    await q.query(`CREATE INDEX payment_events_payment_idx ON payment_events (payment_id, id)`);
    await q.query(`CREATE INDEX payment_events_orphans_idx ON payment_events (provider, provider_ref) WHERE payment_id IS NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS payment_events`);
    await q.query(`DROP TABLE IF EXISTS payments`);
  }
}
