import { Controller, Get, Header, Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { notFound } from '../http/domain-error';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/decorators';
import { JobsService } from '../queue/jobs.service';
import { MetricsService } from './metrics.service';

/**
 * `/metrics` in Prometheus text format. It is public like most exporters; keep it off the
 * public internet at the proxy (nginx/nginx.conf only allows private ranges).
 */
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Public()
  @SkipThrottle()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    if (!this.config.metricsEnabled) throw notFound('Metrics are disabled');
    await Promise.all(
      this.jobs.allQueues().map(async (q) => {
        try {
          const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
          for (const [state, n] of Object.entries(counts)) this.metrics.queueJobs.set({ queue: q.name, state }, n);
        } catch {
          /* Redis down: health reports it; keep the scrape working */
        }
      }),
    );
    return this.metrics.registry.metrics();
  }
}
