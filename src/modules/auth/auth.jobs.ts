import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { AuthService } from './auth.service';

/** Housekeeping: expired refresh tokens and old idempotency records are removed hourly. */
@Injectable()
export class AuthJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger('Maintenance');
  constructor(
    private readonly auth: AuthService,
    private readonly jobs: JobsService,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  async onApplicationBootstrap() {
    const q = this.jobs.queue('maintenance');
    // Job schedulers are upserted by id, so every instance may call this safely.
    await q.upsertJobScheduler('purge-refresh-tokens', { every: 3_600_000 }, { name: 'purge-refresh-tokens', data: {} });
    await q.upsertJobScheduler('purge-idempotency-keys', { every: 3_600_000 }, { name: 'purge-idempotency-keys', data: {} });
  }

  @JobHandler('maintenance', 'purge-refresh-tokens')
  async purgeRefreshTokens() {
    const n = await this.auth.purgeExpiredRefreshTokens();
    if (n) this.logger.log(`Purged ${n} expired refresh tokens`);
    return { purged: n };
  }

  @JobHandler('maintenance', 'purge-idempotency-keys')
  async purgeIdempotencyKeys() {
    const res = await this.ds.query(`DELETE FROM idempotency_keys WHERE created_at < now() - interval '2 days'`);
    const n = Array.isArray(res) && typeof res[1] === 'number' ? res[1] : 0;
    return { purged: n };
  }
}
