import type { DataSource } from 'typeorm';

export interface InvariantResult {
  name: string;
  ok: boolean;
  violations: number;
  sample: unknown[];
}

/**
 * Every invariant of the ledger, checked in SQL inside one REPEATABLE READ snapshot so a
 * busy system is judged on one consistent picture.
 */
export const LEDGER_INVARIANTS: { name: string; sql: string }[] = [
  {
    name: 'entries of each asset sum to zero',
    sql: `SELECT asset, SUM(amount)::text AS sum FROM ledger_entries GROUP BY asset HAVING SUM(amount) <> 0`,
  },
  {
    name: 'each transfer has exactly two entries that cancel out, matching its amount',
    sql: `SELECT t.id FROM ledger_transfers t LEFT JOIN ledger_entries e ON e.transfer_id = t.id
          GROUP BY t.id, t.amount
          HAVING COUNT(e.id) <> 2 OR COALESCE(SUM(e.amount), 1) <> 0 OR MAX(e.amount) <> t.amount`,
  },
  {
    name: "each account's balance equals the sum of its entries",
    sql: `SELECT a.id, a.account_key, a.posted::text, COALESCE(SUM(e.amount), 0)::text AS entries
          FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
          GROUP BY a.id HAVING a.posted <> COALESCE(SUM(e.amount), 0)`,
  },
  {
    name: "each account's latest entry records its balance",
    sql: `SELECT a.id, a.account_key FROM ledger_accounts a
          JOIN LATERAL (SELECT balance_after FROM ledger_entries e WHERE e.account_id = a.id ORDER BY e.id DESC LIMIT 1) last ON true
          WHERE last.balance_after <> a.posted`,
  },
  {
    name: 'no available or held balance below zero (outside the external and issuance accounts)',
    sql: `SELECT id, account_key, posted::text, held::text FROM ledger_accounts
          WHERE held < 0 OR (NOT allow_negative AND posted - held < 0)`,
  },
  {
    name: "each account's held amount equals the remaining amount of its pending holds",
    sql: `SELECT a.id, a.account_key, a.held::text, COALESCE(SUM(h.remaining) FILTER (WHERE h.status = 'pending'), 0)::text AS holds
          FROM ledger_accounts a LEFT JOIN ledger_holds h ON h.account_id = a.id
          GROUP BY a.id HAVING a.held <> COALESCE(SUM(h.remaining) FILTER (WHERE h.status = 'pending'), 0)`,
  },
  {
    name: 'a hold never posted more than it held',
    sql: `SELECT h.id FROM ledger_holds h LEFT JOIN ledger_transfers t ON t.hold_id = h.id
          GROUP BY h.id HAVING COALESCE(SUM(t.amount), 0) > h.amount - h.remaining`,
  },
];

export async function verifyLedger(ds: DataSource): Promise<InvariantResult[]> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const results: InvariantResult[] = [];
    for (const inv of LEDGER_INVARIANTS) {
      const rows: unknown[] = await qr.query(inv.sql);
      results.push({ name: inv.name, ok: rows.length === 0, violations: rows.length, sample: rows.slice(0, 5) });
    }
    await qr.query('COMMIT');
    return results;
  } finally {
    await qr.release();
  }
}
