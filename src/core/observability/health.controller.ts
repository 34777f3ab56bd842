import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/decorators';
import { RedisService } from '../redis/redis.service';

/** 200 `{status:"ok",...}` only when Postgres and Redis both answer; 503 otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisService,
  ) {}

  @Public()
  @SkipThrottle()
  @Get()
  @HealthCheck()
  async check(@Res({ passthrough: true }) res: FastifyReply) {
    try {
      return await this.runChecks();
    } catch (e) {
      // A failing dependency is an expected state for this route, not an error to log: the
      // 503 carries terminus' report of which dependency is down.
      if (e instanceof ServiceUnavailableException) {
        res.status(503);
        return e.getResponse();
      }
      throw e;
    }
  }

  private runChecks() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2000 }),
      async () => {
        const indicator = this.indicators.check('redis');
        return (await this.redis.ping(2000)) ? indicator.up() : indicator.down({ message: 'Redis did not answer PING' });
      },
    ]);
  }
}
