import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Tx } from '../../core/database/transaction';
import { EscrowAction, EscrowActor, EscrowStatus, statsDelta, Transition } from './escrow.machine';
import type { NewEscrow } from './escrow.rules';
import { FIAT_DECIMALS, formatScaled, PRICE_DECIMALS } from './p2p.math';
import { ESCROW_SELECT, EscrowRow } from './p2p.views';

/** A dispute as it is sealed and stored. */
export interface DisputeInput {
  openedBy: string | null;
  openedByRole: 'buyer' | 'seller' | 'system';
  reason: string;
  evidence: string[];
  sealHash: string;
  sealedChatSeq: number;
}

export type LockedEscrow = EscrowRow & { payment_ms_left: string | null; release_ms_left: string | null };

type EventRow = { from_status: EscrowStatus | null; to_status: EscrowStatus; actor_id: string | null; actor_role: EscrowActor; note: string | null; created_at: Date };
type OpenWindow = { id: string; status: EscrowStatus; payment_deadline: Date; release_deadline: Date | null };
export type RoomlessEscrow = Pick<EscrowRow, 'id' | 'seller_id' | 'buyer_id' | 'chat_room_id'>;

/** Every SQL statement on the P2P escrow tables (p2p_escrows, p2p_escrow_events, p2p_disputes, p2p_user_stats). */
@Injectable()
export class EscrowsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  // ------------------------------------------------------------------ reads

  async row(id: string, tx?: Tx): Promise<EscrowRow | null> {
    const sql = `${ESCROW_SELECT} WHERE e.id = $1`;
    const rows: EscrowRow[] = tx ? await tx.query(sql, [id]) : await this.ds.query(sql, [id]);
    return rows[0] ?? null;
  }

  events(id: string): Promise<EventRow[]> {
    return this.ds.query(`SELECT from_status, to_status, actor_id, actor_role, note, created_at FROM p2p_escrow_events WHERE escrow_id = $1 ORDER BY id`, [id]);
  }

  /** Newest first, keyset-paged on (created_at, id); `limit + 1` rows with their cursor text. */
  page(where: string[], params: unknown[], status: string | undefined, cursor: [string, string] | undefined, limit: number): Promise<(EscrowRow & { cursor_at: string })[]> {
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (status) where.push(`e.status = ${p(status)}`);
    if (cursor) where.push(`(e.created_at, e.id) < (${p(cursor[0])}::timestamptz, ${p(cursor[1])}::uuid)`);
    const sql = `${ESCROW_SELECT.replace('SELECT e.*', 'SELECT e.created_at::text AS cursor_at, e.*')}
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.created_at DESC, e.id DESC LIMIT ${p(limit + 1)}`;
    return this.ds.query(sql, params);
  }

  // ------------------------------------------------------------------ creation

  /** Shares the offer row with other takers, but waits for (and then sees) a pause or close. */
  async offerStatusForShare(tx: Tx, offerId: string): Promise<string | null> {
    const [o] = await tx.query<{ status: string }>(`SELECT status FROM p2p_offers WHERE id = $1 FOR SHARE`, [offerId]);
    return o?.status ?? null;
  }

  async userExists(tx: Tx, userId: string): Promise<boolean> {
    const [u] = await tx.query(`SELECT 1 FROM users WHERE id = $1`, [userId]);
    return !!u;
  }

  /** Serialises one buyer's openings (transaction-scoped advisory lock). */
  async lockBuyer(tx: Tx, buyerId: string): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('p2p-buyer'), hashtext($1))`, [buyerId]);
  }

  async creationKeyUsed(tx: Tx, creationKey: string): Promise<boolean> {
    const [prev] = await tx.query(`SELECT 1 FROM p2p_escrows WHERE creation_key = $1`, [creationKey]);
    return !!prev;
  }

  /** The buyer's unpaid escrows, and those cancelled (by them or by lapse) in the last day. */
  async buyerCounts(tx: Tx, buyerId: string): Promise<{ open: number; abandoned: number }> {
    const [c] = await tx.query<{ open: number; abandoned: number }>(
      `SELECT count(*) FILTER (WHERE status = 'awaiting_payment')::int AS open,
              count(*) FILTER (WHERE status = 'cancelled' AND cancelled_at > now() - interval '1 day')::int AS abandoned
       FROM p2p_escrows WHERE buyer_id = $1 AND (status = 'awaiting_payment' OR cancelled_at > now() - interval '1 day')`,
      [buyerId],
    );
    return c;
  }

  /** The new escrow's id, or null when its creation key was already used. */
  async insert(tx: Tx, n: NewEscrow, fee: bigint): Promise<string | null> {
    const inserted = await tx.query<EscrowRow>(
      `INSERT INTO p2p_escrows (offer_id, seller_id, buyer_id, created_by, creation_key, asset, amount, fee, price, fiat_currency,
                                fiat_amount, payment_method, payment_window_seconds, payment_deadline)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now() + $13::int * interval '1 second')
       ON CONFLICT (creation_key) DO NOTHING RETURNING id`,
      [
        n.offerId,
        n.sellerId,
        n.buyerId,
        n.createdBy,
        n.creationKey,
        n.asset,
        n.amount.toString(),
        fee.toString(),
        n.priceE8 === null ? null : formatScaled(n.priceE8, PRICE_DECIMALS),
        n.fiatCurrency,
        formatScaled(n.fiatCents, FIAT_DECIMALS),
        n.paymentMethod,
        n.windowSeconds,
      ],
    );
    return inserted[0]?.id ?? null;
  }

  async byCreationKey(tx: Tx, creationKey: string | null): Promise<EscrowRow> {
    const [prev] = await tx.query<EscrowRow>(`${ESCROW_SELECT} WHERE e.creation_key = $1`, [creationKey]);
    return prev;
  }

  async setHold(tx: Tx, id: string, holdId: string): Promise<void> {
    await tx.query(`UPDATE p2p_escrows SET hold_id = $2 WHERE id = $1`, [id, holdId]);
  }

  // ------------------------------------------------------------------ transitions

  /** Locks the escrow row (FOR UPDATE) with the time left in each window by the database clock. */
  async lock(tx: Tx, id: string): Promise<LockedEscrow | null> {
    const [cur] = await tx.query<LockedEscrow>(
      `SELECT *, (extract(epoch FROM payment_deadline - now()) * 1000)::bigint::text AS payment_ms_left,
                 (extract(epoch FROM release_deadline - now()) * 1000)::bigint::text AS release_ms_left
       FROM p2p_escrows WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return cur ?? null;
  }

  /** Writes the new status and what comes with it; the number of rows changed (1, or 0 if the state moved). */
  async applyTransition(
    tx: Tx,
    id: string,
    t: Transition,
    action: EscrowAction,
    extra: { releaseWindowSeconds: number; releaseTransfer: string | null; feeTransfer: string | null },
  ): Promise<number> {
    const params: unknown[] = [id, t.to, t.from];
    const sets = ['status = $2', 'updated_at = now()'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      sets.push(sql.replace('?', `$${params.length}`));
    };
    switch (t.to) {
      case 'paid':
        sets.push('paid_at = now()');
        add(`release_deadline = now() + ?::int * interval '1 second'`, extra.releaseWindowSeconds);
        break;
      case 'cancelled':
        sets.push('cancelled_at = now()');
        add('cancel_reason = ?', action === 'cancel' ? 'buyer_cancelled' : 'payment_timeout');
        break;
      case 'disputed':
        sets.push('disputed_at = now()');
        break;
      case 'released':
        sets.push('released_at = now()');
        add('release_transfer_id = ?', extra.releaseTransfer);
        add('fee_transfer_id = ?', extra.feeTransfer);
        break;
      case 'refunded':
        sets.push('refunded_at = now()');
        break;
    }
    const upd = await tx.run(`UPDATE p2p_escrows SET ${sets.join(', ')} WHERE id = $1 AND status = $3`, params);
    return upd.affected;
  }

  async insertDispute(tx: Tx, id: string, d: DisputeInput): Promise<void> {
    await tx.query(
      `INSERT INTO p2p_disputes (escrow_id, opened_by, opened_by_role, reason, evidence, seal_hash, sealed_chat_seq)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)`,
      [id, d.openedBy, d.openedByRole, d.reason, JSON.stringify(d.evidence), d.sealHash, d.sealedChatSeq],
    );
  }

  async resolveDispute(tx: Tx, id: string, r: { outcome: 'release' | 'refund'; note: string; by: string }): Promise<void> {
    await tx.query(`UPDATE p2p_disputes SET outcome = $2, resolution_note = $3, resolved_by = $4, resolved_at = now() WHERE escrow_id = $1`, [
      id,
      r.outcome,
      r.note,
      r.by,
    ]);
  }

  async recordEvent(tx: Tx, id: string, from: EscrowStatus | null, to: EscrowStatus, actorId: string | null, role: EscrowActor, note: string | null) {
    await tx.query(`INSERT INTO p2p_escrow_events (escrow_id, from_status, to_status, actor_id, actor_role, note) VALUES ($1, $2, $3, $4, $5, $6)`, [
      id,
      from,
      to,
      actorId,
      role,
      note,
    ]);
  }

  /** Reputation counters, in the transition's transaction (rows locked in user-id order). */
  async bumpStats(tx: Tx, r: EscrowRow, to: EscrowStatus) {
    const delta = statsDelta(to);
    const per = new Map<string, { c: number; f: number }>();
    const idOf = (p: 'buyer' | 'seller') => (p === 'buyer' ? r.buyer_id : r.seller_id);
    for (const p of delta.completed) per.set(idOf(p), { c: (per.get(idOf(p))?.c ?? 0) + 1, f: per.get(idOf(p))?.f ?? 0 });
    for (const p of delta.failed) per.set(idOf(p), { c: per.get(idOf(p))?.c ?? 0, f: (per.get(idOf(p))?.f ?? 0) + 1 });
    if (!per.size) return;
    const entries = [...per.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const values: unknown[] = [];
    const tuples = entries.map(([userId, d], i) => {
      values.push(userId, d.c, d.f);
      return `($${i * 3 + 1}::uuid, $${i * 3 + 2}::int, $${i * 3 + 3}::int)`;
    });
    await tx.query(
      `INSERT INTO p2p_user_stats (user_id, completed_trades, failed_trades) VALUES ${tuples.join(', ')}
       ON CONFLICT (user_id) DO UPDATE SET completed_trades = p2p_user_stats.completed_trades + EXCLUDED.completed_trades,
         failed_trades = p2p_user_stats.failed_trades + EXCLUDED.failed_trades, updated_at = now()`,
      values,
    );
  }

  // ------------------------------------------------------------------ chat room

  async chatRoomOf(id: string): Promise<string | null> {
    const [cur] = await this.ds.query(`SELECT chat_room_id FROM p2p_escrows WHERE id = $1`, [id]);
    return cur?.chat_room_id ?? null;
  }

  async setChatRoom(id: string, roomId: string): Promise<void> {
    await this.ds.query(`UPDATE p2p_escrows SET chat_room_id = $2 WHERE id = $1 AND chat_room_id IS NULL`, [id, roomId]);
  }

  // ------------------------------------------------------------------ sweep

  duePayments(batch: number): Promise<{ id: string }[]> {
    return this.ds.query(`SELECT id FROM p2p_escrows WHERE status = 'awaiting_payment' AND payment_deadline <= now() ORDER BY payment_deadline LIMIT $1`, [batch]);
  }

  dueReleases(batch: number): Promise<{ id: string }[]> {
    return this.ds.query(`SELECT id FROM p2p_escrows WHERE status = 'paid' AND release_deadline <= now() ORDER BY release_deadline LIMIT $1`, [batch]);
  }

  openWindows(after: string, batch: number): Promise<OpenWindow[]> {
    return this.ds.query(
      `SELECT id, status, payment_deadline, release_deadline FROM p2p_escrows
       WHERE status IN ('awaiting_payment', 'paid') AND id > $1 ORDER BY id LIMIT $2`,
      [after, batch],
    );
  }

  roomless(batch: number): Promise<RoomlessEscrow[]> {
    return this.ds.query(
      `SELECT id, seller_id, buyer_id, chat_room_id FROM p2p_escrows
       WHERE chat_room_id IS NULL AND status IN ('awaiting_payment', 'paid', 'disputed') AND created_at < now() - interval '30 seconds' LIMIT $1`,
      [batch],
    );
  }
}
