import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { Executor } from '../database/transaction';
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

/**
 * A transactional outbox. A side effect that must not be lost (a notification after an escrow
 * changed, a payment credited) is written with `add(tx, …)` in the SAME transaction as the state
 * change, so it commits with it or not at all. After commit a BullMQ job (id `outbox-<id>`)
 * delivers it; a crash between commit and delivery loses nothing, because a sweep (at start, and
 * every OUTBOX_SWEEP_INTERVAL_SECONDS) re-enqueues every undelivered entry. Delivery is at least
 * once; a claim (`claimed_until`) keeps two workers from running one entry at the same time, and
 * `delivered_at` makes a repeated job a no-op.
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
  ) {}

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
         WHERE id = $1 AND delivered_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
         RETURNING id, kind, payload, attempts)
       SELECT * FROM c`,
      [id, CLAIM_SECONDS],
    );
    if (!row) return { delivered: false, reason: 'delivered, claimed elsewhere, or unknown' };
    const handler = this.handlers.get(row.kind);
    try {
      if (!handler) throw new Error(`no outbox handler for kind ${row.kind}`);
      await handler(row.payload, { id: row.id, kind: row.kind, attempts: row.attempts });
    } catch (e) {
      await this.ds.query(`UPDATE outbox SET claimed_until = NULL, last_error = $2 WHERE id = $1`, [id, String((e as Error).message).slice(0, 300)]);
      throw e; // BullMQ retries with backoff; the sweep picks it up after that
    }
    await this.ds.query(`UPDATE outbox SET delivered_at = now(), claimed_until = NULL, last_error = NULL WHERE id = $1`, [id]);
    return { delivered: true };
  }
}
