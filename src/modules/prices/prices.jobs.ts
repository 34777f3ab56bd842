import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { PricesService } from './prices.service';

/** The repeatable refresh: a BullMQ job scheduler (upserted by id, so every instance may call it). */
@Injectable()
export class PricesJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger('Prices');

  constructor(
    private readonly prices: PricesService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap() {
    await this.jobs
      .queue('prices')
      .upsertJobScheduler('prices-refresh', { every: this.config.prices.refreshSeconds * 1000 }, { name: 'refresh', data: {}, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } });
  }

  @JobHandler('prices', 'refresh')
  async refresh() {
    const { providers, prices } = await this.prices.refresh();
    const failed = providers.filter((p) => p.status === 'error');
    if (failed.length === providers.length && providers.length) this.logger.warn('Every price provider failed this round');
    return { providers, prices: prices.length };
  }
}
