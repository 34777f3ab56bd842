import { Global, Inject, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsService } from './metrics.service';
import { MetricsController } from './metrics.controller';
import { HealthController } from './health.controller';
import { HttpMetricsMiddleware } from './http-metrics.middleware';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'json' })],
  controllers: [MetricsController, HealthController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class ObservabilityModule implements NestModule {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  configure(consumer: MiddlewareConsumer) {
    // Under Fastify the histogram comes from Fastify hooks (registerFastifyHttpMetrics, in bootstrap).
    if (this.config.httpAdapter === 'fastify') return;
    consumer.apply(HttpMetricsMiddleware).forRoutes('{*path}');
  }
}
