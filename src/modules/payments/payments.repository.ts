import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Tx } from '../../core/database/transaction';
import { badRequest } from '../../core/http/domain-error';
import { decodeCursor, Page, parseLimit, toPage } from '../../core/http/pagination';
import type { PaymentEventKind, PaymentStatus } from './payment.machine';
import type { ProviderName } from './providers/provider';
import { PaymentRow, PaymentView, toPaymentView } from './payments.views';
import { isUUID } from 'class-validator';

export const isUuid = (v: unknown): v is string => typeof v === 'string' && isUUID(v);
const isCursor = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && v[0].length <= 64 && isUuid(v[1]);

export interface StoredEvent {
  id: string;
  kind: PaymentEventKind | 'ignored';
  provider_ref: string | null;
  amount: string | null;
  currency: string | null;
}

type Q = Pick<Tx, 'query'> | DataSource;

/** Every SQL statement of the payments module. */
@Injectable()
export class PaymentsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async insertPending(p: { userId: string; provider: ProviderName; amount: bigint; creationKey: string | null; expiresAt: Date }): Promise<{ row: PaymentRow; created: boolean }> {
    const rows: PaymentRow[] = await this.ds.query(
      `INSERT INTO payments (user_id, provider, asset, amount, creation_key, expires_at) VALUES ($1, $2, 'USD', $3, $4, $5)
       ON CONFLICT (creation_key) WHERE creation_key IS NOT NULL DO NOTHING RETURNING *`,
      [p.userId, p.provider, p.amount.toString(), p.creationKey, p.expiresAt],
    );
    if (rows.length) return { row: rows[0], created: true };
    const [prev]: PaymentRow[] = await this.ds.query(`SELECT * FROM payments WHERE creation_key = $1`, [p.creationKey]);
    return { row: prev, created: false };
  }

  async recordCheckout(id: string, c: { providerRef: string; checkoutUrl: string; clientSecret: string | null }): Promise<PaymentRow> {
    const [rows] = await this.ds.query(
      `UPDATE payments SET provider_ref = $2, checkout_url = $3, client_secret = $4, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, c.providerRef.slice(0, 255), c.checkoutUrl, c.clientSecret],
    );
    return rows[0];
  }

  async markFailed(id: string, reason: string): Promise<PaymentRow> {
    const [rows] = await this.ds.query(
      `UPDATE payments SET status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END, failure_reason = $2, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, reason.slice(0, 500)],
    );
    return rows[0];
  }

  async byId(id: string, q: Q = this.ds): Promise<PaymentRow | null> {
    const rows = (await q.query(`SELECT * FROM payments WHERE id = $1`, [id])) as PaymentRow[];
    return rows[0] ?? null;
  }

  async lockById(tx: Tx, id: string): Promise<PaymentRow | null> {
    const rows = await tx.query<PaymentRow>(`SELECT * FROM payments WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ?? null;
  }

  /** The payment an event names, locked: by our id (echoed metadata), its checkout reference, or its secondary reference. */
  async lockForEvent(tx: Tx, provider: ProviderName, ids: { paymentId?: string | null; ref?: string | null; paymentRef?: string | null }): Promise<PaymentRow | null> {
    if (isUuid(ids.paymentId)) {
      const rows: PaymentRow[] = await tx.query(`SELECT * FROM payments WHERE id = $1 AND provider = $2 FOR UPDATE`, [ids.paymentId, provider]);
      if (rows.length) return rows[0];
    }
    const refs = [ids.ref, ids.paymentRef].filter((r): r is string => !!r);
    if (!refs.length) return null;
    const rows: PaymentRow[] = await tx.query(
      `SELECT * FROM payments WHERE provider = $1 AND (provider_ref = ANY($2) OR provider_payment_ref = ANY($2)) ORDER BY created_at LIMIT 1 FOR UPDATE`,
      [provider, refs],
    );
    return rows[0] ?? null;
  }

  /** Stores an event once; null when (provider, event id) was stored before. */
  async insertEvent(
    tx: Tx,
    e: { provider: ProviderName; eventId: string; kind: string; ref: string | null; amount: bigint | null; currency: string | null; source: 'webhook' | 'reconcile' },
  ): Promise<string | null> {
    const rows = await tx.query<{ id: string }>(
      `INSERT INTO payment_events (provider, provider_event_id, kind, provider_ref, amount, currency, source) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING id::text`,
      [e.provider, e.eventId.slice(0, 255), e.kind, e.ref?.slice(0, 255) ?? null, e.amount?.toString() ?? null, e.currency?.slice(0, 10) ?? null, e.source],
    );
    return rows[0]?.id ?? null;
  }

  async setEventOutcome(tx: Tx, eventId: string, paymentId: string | null, outcome: string): Promise<void> {
    await tx.query(`UPDATE payment_events SET payment_id = $2, outcome = $3 WHERE id = $1`, [eventId, paymentId, outcome.slice(0, 300)]);
  }

  /** Events that arrived before their payment could be found by this reference. */
  async orphans(tx: Tx, provider: ProviderName, refs: string[]): Promise<StoredEvent[]> {
    return tx.query(
      `SELECT id::text, kind, provider_ref, amount::text, currency FROM payment_events
       WHERE provider = $1 AND payment_id IS NULL AND provider_ref = ANY($2) AND kind <> 'ignored' ORDER BY id FOR UPDATE`,
      [provider, refs],
    );
  }

  async setPaymentRef(tx: Tx, id: string, paymentRef: string): Promise<void> {
    await tx.query(`UPDATE payments SET provider_payment_ref = $2 WHERE id = $1 AND provider_payment_ref IS NULL`, [id, paymentRef.slice(0, 255)]);
  }

  async applyFacts(
    tx: Tx,
    id: string,
    f: { status: PaymentStatus; credited: bigint; reversed: bigint; refundTarget: bigint; shortfall: bigint; flags: string[] },
  ): Promise<PaymentRow> {
    const { rows } = await tx.run<PaymentRow>(
      `UPDATE payments SET status = $2::varchar, credited = $3, reversed = $4, refund_target = $5, shortfall = shortfall + $6,
         flagged = flagged OR cardinality($7::text[]) > 0, flag_reasons = (flag_reasons || $7::text[])[1:50],
         completed_at = CASE WHEN $2::varchar IN ('succeeded', 'refunded') AND completed_at IS NULL THEN now() ELSE completed_at END,
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, f.status, f.credited.toString(), f.reversed.toString(), f.refundTarget.toString(), f.shortfall.toString(), f.flags.map((s) => s.slice(0, 300))],
    );
    return rows[0];
  }

  async touchChecked(id: string): Promise<void> {
    await this.ds.query(`UPDATE payments SET last_checked_at = now() WHERE id = $1`, [id]);
  }

  /** Pending payments older than `minutes` (or past their expiry), least recently checked first. */
  async duePending(minutes: number, limit: number): Promise<PaymentRow[]> {
    return this.ds.query(
      `SELECT * FROM payments WHERE status = 'pending' AND (created_at <= now() - make_interval(mins => $1) OR expires_at <= now())
       ORDER BY last_checked_at NULLS FIRST, created_at LIMIT $2`,
      [minutes, limit],
    );
  }

  async page(filter: { userId?: string; status?: string; provider?: string }, q: { limit?: unknown; cursor?: unknown }): Promise<Page<PaymentView>> {
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, isCursor);
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (filter.userId) where.push(`user_id = ${p(filter.userId)}`);
    if (filter.status) where.push(`status = ${p(filter.status)}`);
    if (filter.provider) where.push(`provider = ${p(filter.provider)}`);
    if (cursor) where.push(`(created_at, id) < (${p(cursor[0])}::timestamptz, ${p(cursor[1])}::uuid)`);
    const sql = `SELECT created_at::text AS cursor_at, * FROM payments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ${p(limit + 1)}`;
    let rows: (PaymentRow & { cursor_at: string })[];
    try {
      rows = await this.ds.query(sql, params);
    } catch (e) {
      if (['22007', '22008', '22P02'].includes((e as { code?: string }).code ?? '')) throw badRequest('cursor is invalid');
      throw e;
    }
    return toPage(rows, limit, toPaymentView, (r) => [r.cursor_at, r.id]);
  }
}
