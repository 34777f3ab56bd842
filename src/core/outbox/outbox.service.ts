import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { Executor } from '../database/transaction';
import { conflict, notFound } from '../http/domain-error';
import { MetricsService } from '../observability/metrics.service';
import { JobHandler } from '../queue/job-handler.decorator';
import { JobsService } from '../queue/jobs.service';

export interface OutboxEntry<P = unknown> {
  /** What to do: the name a handler registered (`p2p.escrow_notification`, `payments.notification`). */
  kind: string;
  payload: P;
  /** One entry per key, ever (a replayed request or a retried transaction writes nothing new). */
  dedupeKey?: string | null;
}

/** Delivers one entry. Runs at least once per entry: make it idempotent on `id` (or its own dedupe key). */
export type OutboxHandler<P = any> = (payload: P, meta: { id: string; kind: string; attempts: number }) => Promise<void>;

/** A claim on an entry while its handler runs; an abandoned claim (crash) expires after this. */
const CLAIM_SECONDS = 60;
const SWEEP_BATCH = 500;

type OutboxRow = { id: string; kind: string; attempts: number; last_error: string | null; created_at: Date; delivered_at: Date | null };

/** An entry as operators see it (`GET /api/admin/outbox`). */
export interface OutboxView {
  id: string;
  kind: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  /** `pending` (will be retried), `dead` (gave up after OUTBOX_MAX_ATTEMPTS), `delivered`. */
  state: 'pending' | 'dead' | 'delivered';
}

/**
 * A transactional outbox. A side effect that must not be lost (a notification after an escrow
 * changed, a payment credited) is written with `add(tx, …)` in the SAME transaction as the state
 * change, so it commits with it or not at all. After commit a BullMQ job (id `outbox-<id>`)
 * delivers it; a crash between commit and delivery loses nothing, because a sweep (at start, and
 * every OUTBOX_SWEEP_INTERVAL_SECONDS) re-enqueues every undelivered entry. Delivery is at least
 * once; a claim (`claimed_until`) keeps two workers from running one entry at the same time, and
 * `delivered_at` makes a repeated job a no-op.
 *
 * An entry whose handler failed OUTBOX_MAX_ATTEMPTS times is *dead*: the sweep leaves it, an
 * error is logged once, the `outbox_entries{state="dead"}` gauge counts it, and admins list and
 * retry it (`GET /api/admin/outbox?state=dead`, `POST /api/admin/outbox/:id/retry`).
 */
@Injectable()
export class OutboxService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Outbox');
  private readonly handlers = new Map<string, OutboxHandler>();
  private startup: Promise<unknown> | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    const self = this;
    // Read on scrape: one grouped count over the partial index of undelivered entries.
    new Gauge({
      name: 'outbox_entries',
      help: 'Undelivered transactional-outbox entries: pending (will be retried) or dead (gave up, needs an operator)',
      labelNames: ['state'],
      registers: [metrics.registry],
      collect: async function (this: Gauge) {
        const counts = await self.undeliveredCounts().catch(() => null);
        if (!counts) return;
        this.set({ state: 'pending' }, counts.pending);
        this.set({ state: 'dead' }, counts.dead);
      },
    });
  }

  /** Undelivered entries: pending (attempts left) and dead (none left). */
  async undeliveredCounts(): Promise<{ pending: number; dead: number }> {
    const [row] = await this.ds.query(
      `SELECT count(*) FILTER (WHERE attempts < $1)::int AS pending, count(*) FILTER (WHERE attempts >= $1)::int AS dead
       FROM outbox WHERE delivered_at IS NULL`,
      [this.config.outbox.maxAttempts],
    );
    return { pending: row.pending, dead: row.dead };
  }

  /** Entries for operators, newest first: undelivered ones by state, or the latest delivered. */
  async list(state: OutboxView['state'], limit: number): Promise<OutboxView[]> {
    const max = this.config.outbox.maxAttempts;
    const rows: OutboxRow[] =
      state === 'delivered'
        ? await this.ds.query(
            `SELECT id, kind, attempts, last_error, created_at, delivered_at FROM outbox WHERE delivered_at IS NOT NULL
             ORDER BY delivered_at DESC, id LIMIT $1`,
            [limit],
          )
        : await this.ds.query(
            `SELECT id, kind, attempts, last_error, created_at, delivered_at FROM outbox
             WHERE delivered_at IS NULL AND ${state === 'dead' ? 'attempts >= $1' : 'attempts < $1'}
             ORDER BY created_at DESC, id LIMIT $2`,
            [max, limit],
          );
    return rows.map((r) => this.toView(r));
  }

  /**
   * An operator's retry of an undelivered entry (after fixing what made it fail): its attempts
   * start again from zero and it is enqueued now. Delivered entries are never run again (409).
   */
  async retry(id: string): Promise<OutboxView> {
    const [row]: OutboxRow[] = await this.ds.query(
      `WITH c AS (
         UPDATE outbox SET attempts = 0, claimed_until = NULL WHERE id = $1 AND delivered_at IS NULL
         RETURNING id, kind, attempts, last_error, created_at, delivered_at)
       SELECT * FROM c`,
      [id],
    );
    if (!row) {
      const [exists] = await this.ds.query(`SELECT delivered_at FROM outbox WHERE id = $1`, [id]);
      if (!exists) throw notFound('Outbox entry not found');
      throw conflict('Outbox entry was already delivered');
    }
    // A new job id: the entry's first job may still sit in the failed set under `outbox-<id>`.
    await this.jobs.add('outbox', 'deliver', { id }, { jobId: `outbox-${id}-retry-${Date.now()}` });
    return this.toView(row);
  }

  private toView(r: OutboxRow): OutboxView {
    return {
      id: r.id,
      kind: r.kind,
      attempts: r.attempts,
      lastError: r.last_error,
      createdAt: r.created_at.toISOString(),
      deliveredAt: r.delivered_at?.toISOString() ?? null,
      state: r.delivered_at ? 'delivered' : r.attempts >= this.config.outbox.maxAttempts ? 'dead' : 'pending',
    };
  }

  /** Registers the one handler of a kind (call from a provider's constructor or onModuleInit). */
  register<P>(kind: string, handler: OutboxHandler<P>): void {
    if (this.handlers.has(kind)) throw new Error(`Outbox kind ${kind} has more than one handler`);
    this.handlers.set(kind, handler as OutboxHandler);
  }

  /** Writes an entry in the caller's transaction; it is enqueued once that commits. Null when deduplicated. */
  async add<P>(tx: Executor, entry: OutboxEntry<P>): Promise<string | null> {
    const [row] = await tx.query<{ id: string }>(
      `INSERT INTO outbox (kind, payload, dedupe_key) VALUES ($1, $2::jsonb, $3) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [entry.kind, JSON.stringify(entry.payload ?? null), entry.dedupeKey ?? null],
    );
    if (row) tx.afterCommit(() => this.enqueue(row.id));
    return row?.id ?? null;
  }

  private async enqueue(id: string): Promise<void> {
    try {
      await this.jobs.add('outbox', 'deliver', { id }, { jobId: `outbox-${id}` });
    } catch (e) {
      this.logger.warn(`could not enqueue outbox entry ${id} (the sweep will): ${(e as Error).message}`);
    }
  }

  onApplicationBootstrap() {
    const every = this.config.outbox.sweepIntervalSeconds * 1000;
    this.startup = (async () => {
      await this.jobs.queue('outbox').upsertJobScheduler('outbox-sweep', { every }, { name: 'sweep', data: {} });
      if (!this.config.queuesEnabled) return;
      const n = await this.sweep(0);
      if (n) this.logger.log(`Start-up sweep: ${n} undelivered outbox entries re-enqueued`);
    })().catch((e) => this.logger.warn(`outbox start-up sweep failed: ${(e as Error).message}`));
  }

  async beforeApplicationShutdown() {
    await this.startup;
  }

  /** Awaits the start-up sweep (tests and tools). */
  ready(): Promise<unknown> {
    return this.startup ?? Promise.resolve();
  }

  /** Re-enqueues undelivered entries older than `olderThanSeconds` (job ids deduplicate). */
  async sweep(olderThanSeconds: number): Promise<number> {
    let after = '00000000-0000-0000-0000-000000000000';
    let total = 0;
    for (;;) {
      const rows: { id: string }[] = await this.ds.query(
        `SELECT id FROM outbox WHERE delivered_at IS NULL AND attempts < $1 AND created_at <= now() - make_interval(secs => $2) AND id > $3
         ORDER BY id LIMIT $4`,
        [this.config.outbox.maxAttempts, olderThanSeconds, after, SWEEP_BATCH],
      );
      for (const r of rows) await this.enqueue(r.id);
      total += rows.length;
      if (rows.length < SWEEP_BATCH) return total;
      after = rows[rows.length - 1].id;
    }
  }

  @JobHandler('outbox', 'sweep')
  async sweepJob() {
    return { enqueued: await this.sweep(this.config.outbox.sweepIntervalSeconds) };
  }

  @JobHandler('outbox', 'deliver')
  async deliverJob(job: Job<{ id: string }>) {
    return this.deliver(job.data.id);
  }

  /** Runs an entry's handler unless it was delivered (or another worker holds it right now). */
  async deliver(id: string): Promise<{ delivered: boolean; reason?: string }> {
    // (A CTE, so the driver returns the rows of an UPDATE ... RETURNING like a SELECT's.)
    const [row] = await this.ds.query(
      `WITH c AS (
         UPDATE outbox SET claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
         WHERE id = $1 AND delivered_at IS NULL AND attempts < $3 AND (claimed_until IS NULL OR claimed_until < now())
         RETURNING id, kind, payload, attempts)
       SELECT * FROM c`,
      [id, CLAIM_SECONDS, this.config.outbox.maxAttempts],
    );
    if (!row) return { delivered: false, reason: 'delivered, claimed elsewhere, dead (no attempts left), or unknown' };
    const handler = this.handlers.get(row.kind);
    try {
      if (!handler) throw new Error(`no outbox handler for kind ${row.kind}`);
      await handler(row.payload, { id: row.id, kind: row.kind, attempts: row.attempts });
    } catch (e) {
      const message = String((e as Error).message).slice(0, 300);
      await this.ds.query(`UPDATE outbox SET claimed_until = NULL, last_error = $2 WHERE id = $1`, [id, message]);
      if (row.attempts >= this.config.outbox.maxAttempts) {
        this.logger.error(
          { outboxId: id, kind: row.kind, attempts: row.attempts, lastError: message },
          `Outbox entry ${id} (${row.kind}) gave up after ${row.attempts} attempts; retry it with POST /api/admin/outbox/${id}/retry`,
        );
      }
      throw e; // BullMQ retries with backoff; the sweep picks it up after that
    }
    await this.ds.query(`UPDATE outbox SET delivered_at = now(), claimed_until = NULL, last_error = NULL WHERE id = $1`, [id]);
    return { delivered: true };
  }
}
