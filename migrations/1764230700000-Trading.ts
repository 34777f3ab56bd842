import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The trading pairs this migration creates. Amounts are integers in minor units: prices and
 * notional in the quote asset's, quantities in the base asset's (see src/modules/trading/trading.math.ts).
 * Each pair satisfies minPrice × lotSize ≥ 10^baseDecimals (no fill can be worth nothing);
 * trading.math.spec.ts checks this list.
 */
export const TRADING_PAIRS_SEED = [
  // tick 0.01 USD, lot 0.0001 BTC, price 100.00 .. 10,000,000.00, up to 10,000 BTC, min notional 1.00 USD
  { id: 'BTC-USD', base: 'BTC', quote: 'USD', tickSize: '1', lotSize: '10000', minPrice: '10000', maxPrice: '1000000000', maxQuantity: '1000000000000', minNotional: '100' },
  // tick 0.01 USD, lot 0.001 ETH, price 10.00 .. 10,000,000.00, up to 100,000 ETH, min notional 1.00 USD
  { id: 'ETH-USD', base: 'ETH', quote: 'USD', tickSize: '1', lotSize: '1000000000000000', minPrice: '1000', maxPrice: '1000000000', maxQuantity: '100000000000000000000000', minNotional: '100' },
  // tick 0.01 USDT, lot 0.00001 BTC, price 1.00 .. 10,000,000.00, up to 10,000 BTC, min notional 1 USDT
  { id: 'BTC-USDT', base: 'BTC', quote: 'USDT', tickSize: '10000', lotSize: '1000', minPrice: '1000000', maxPrice: '10000000000000', maxQuantity: '1000000000000', minNotional: '1000000' },
  // tick 0.000001 BTC, lot 0.0001 ETH, price 0.0001 .. 10 BTC, up to 100,000 ETH, min notional 0.00001 BTC
  { id: 'ETH-BTC', base: 'ETH', quote: 'BTC', tickSize: '100', lotSize: '100000000000000', minPrice: '10000', maxPrice: '1000000000', maxQuantity: '100000000000000000000000', minNotional: '1000' },
] as const;

/**
 * Trading board: pairs, orders (the book is the set of resting orders) and trades.
 *
 * - trading_pairs.sequence is the pair's order-book sequence: +1 for every change of the book,
 *   written in the same transaction as the change. The pair row is also the pair's write lock
 *   (SELECT ... FOR UPDATE): one matching writer per pair across every instance.
 * - trading_orders.book_seq is the sequence at which the order last changed in the book, so an
 *   instance whose in-memory book is at sequence N catches up with `book_seq > N`.
 * - trading_trades are history (immutable, like ledger transfers).
 */
export class Trading1764230700000 implements MigrationInterface {
  name = 'Trading1764230700000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE trading_pairs (
        id varchar(20) PRIMARY KEY,
        base varchar(10) NOT NULL,
        quote varchar(10) NOT NULL,
        tick_size numeric(78,0) NOT NULL,
        lot_size numeric(78,0) NOT NULL,
        min_price numeric(78,0) NOT NULL,
        max_price numeric(78,0) NOT NULL,
        max_quantity numeric(78,0) NOT NULL,
        min_notional numeric(78,0) NOT NULL,
        status varchar(10) NOT NULL DEFAULT 'trading',
        sequence bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trading_pairs_assets CHECK (base <> quote AND base IN ('BTC','ETH','USDT','USD','SOFT') AND quote IN ('BTC','ETH','USDT','USD','SOFT')),
        CONSTRAINT trading_pairs_positive CHECK (tick_size > 0 AND lot_size > 0 AND min_price > 0 AND max_price >= min_price AND max_quantity > 0 AND min_notional > 0),
        CONSTRAINT trading_pairs_status CHECK (status IN ('trading','halted')),
        CONSTRAINT trading_pairs_sequence CHECK (sequence >= 0)
      )`);
    for (const p of TRADING_PAIRS_SEED) {
      await q.query(
        `INSERT INTO trading_pairs (id, base, quote, tick_size, lot_size, min_price, max_price, max_quantity, min_notional)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [p.id, p.base, p.quote, p.tickSize, p.lotSize, p.minPrice, p.maxPrice, p.maxQuantity, p.minNotional],
      );
    }

    await q.query(`
      CREATE TABLE trading_orders (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id),
        pair_id varchar(20) NOT NULL REFERENCES trading_pairs(id),
        side varchar(4) NOT NULL,
        type varchar(6) NOT NULL,
        time_in_force varchar(3) NOT NULL,
        price numeric(78,0) NULL,
        quantity numeric(78,0) NOT NULL,
        filled_quantity numeric(78,0) NOT NULL DEFAULT 0,
        notional numeric(78,0) NOT NULL DEFAULT 0,
        quote_quantity numeric(78,0) NOT NULL DEFAULT 0,
        fee numeric(78,0) NOT NULL DEFAULT 0,
        status varchar(16) NOT NULL,
        cancel_reason varchar(24) NULL,
        hold_id uuid NULL REFERENCES ledger_holds(id),
        hold_rev integer NOT NULL DEFAULT 0,
        priority bigint NULL,
        book_seq bigint NOT NULL DEFAULT 0,
        client_order_id varchar(64) NULL,
        expires_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trading_orders_side CHECK (side IN ('buy','sell')),
        CONSTRAINT trading_orders_type CHECK (type IN ('limit','market')),
        CONSTRAINT trading_orders_tif CHECK (time_in_force IN ('GTC','IOC','FOK','GTD')),
        CONSTRAINT trading_orders_status CHECK (status IN ('open','partially_filled','filled','cancelled','rejected')),
        CONSTRAINT trading_orders_price CHECK ((type = 'limit') = (price IS NOT NULL) AND (price IS NULL OR price > 0)),
        CONSTRAINT trading_orders_quantities CHECK (quantity > 0 AND filled_quantity >= 0 AND filled_quantity <= quantity AND notional >= 0 AND quote_quantity >= 0 AND fee >= 0),
        CONSTRAINT trading_orders_filled_status CHECK ((status = 'filled') = (filled_quantity = quantity)),
        CONSTRAINT trading_orders_resting CHECK (status NOT IN ('open','partially_filled') OR (type = 'limit' AND priority IS NOT NULL AND time_in_force IN ('GTC','GTD'))),
        CONSTRAINT trading_orders_gtd CHECK ((time_in_force = 'GTD') = (expires_at IS NOT NULL))
      )`);
    // The book: resting orders of a pair by side, price and time priority (rebuilds and snapshots).
    await q.query(
      `CREATE INDEX trading_orders_book_idx ON trading_orders (pair_id, side, price, priority) WHERE status IN ('open','partially_filled')`,
    );
    // Catch-up of an instance's in-memory book: what changed after sequence N.
    await q.query(`CREATE INDEX trading_orders_book_seq_idx ON trading_orders (pair_id, book_seq)`);
    await q.query(`CREATE INDEX trading_orders_user_idx ON trading_orders (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE UNIQUE INDEX trading_orders_client_id_uq ON trading_orders (user_id, client_order_id) WHERE client_order_id IS NOT NULL`);
    await q.query(`CREATE INDEX trading_orders_expiry_idx ON trading_orders (expires_at) WHERE status IN ('open','partially_filled') AND expires_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE trading_trades (
        id uuid PRIMARY KEY,
        seq bigserial NOT NULL,
        pair_id varchar(20) NOT NULL REFERENCES trading_pairs(id),
        price numeric(78,0) NOT NULL,
        quantity numeric(78,0) NOT NULL,
        quote_amount numeric(78,0) NOT NULL,
        taker_side varchar(4) NOT NULL,
        taker_order_id uuid NOT NULL REFERENCES trading_orders(id),
        maker_order_id uuid NOT NULL REFERENCES trading_orders(id),
        buyer_id uuid NOT NULL REFERENCES users(id),
        seller_id uuid NOT NULL REFERENCES users(id),
        buyer_fee numeric(78,0) NOT NULL DEFAULT 0,
        seller_fee numeric(78,0) NOT NULL DEFAULT 0,
        book_seq bigint NOT NULL,
        executed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trading_trades_seq_uq UNIQUE (seq),
        CONSTRAINT trading_trades_positive CHECK (price > 0 AND quantity > 0 AND quote_amount > 0 AND buyer_fee >= 0 AND seller_fee >= 0),
        CONSTRAINT trading_trades_side CHECK (taker_side IN ('buy','sell')),
        CONSTRAINT trading_trades_no_self_trade CHECK (buyer_id <> seller_id AND taker_order_id <> maker_order_id)
      )`);
    await q.query(`CREATE INDEX trading_trades_pair_idx ON trading_trades (pair_id, seq DESC)`);
    await q.query(`CREATE INDEX trading_trades_pair_time_idx ON trading_trades (pair_id, executed_at)`);
    await q.query(`CREATE INDEX trading_trades_taker_idx ON trading_trades (taker_order_id)`);
    await q.query(`CREATE INDEX trading_trades_maker_idx ON trading_trades (maker_order_id)`);
    // Trades are history: never updated or deleted (the ledger's trigger function).
    await q.query(
      `CREATE TRIGGER trading_trades_immutable BEFORE UPDATE OR DELETE ON trading_trades FOR EACH ROW EXECUTE FUNCTION ledger_immutable()`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE trading_trades`);
    await q.query(`DROP TABLE trading_orders`);
    await q.query(`DROP TABLE trading_pairs`);
  }
}
