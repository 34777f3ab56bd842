import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { RedisService } from '../../core/redis/redis.service';
import { rateLimited } from '../../core/http/domain-error';

/**
 * Password-guessing brake, much tighter than the general rate limit: failed logins are
 * counted per account+IP and per IP (shared by all instances through Redis). A success
 * clears the account+IP counter.
 */
@Injectable()
export class LoginThrottleService {
  private readonly byAccountIp: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;

  constructor(redis: RedisService, @Inject(APP_CONFIG) config: AppConfig) {
    const t = config.throttle;
    this.byAccountIp = new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix: redis.key('login-fail-acct'),
      points: t.loginAccountLimit,
      duration: t.loginWindowSeconds,
      blockDuration: t.loginWindowSeconds,
    });
    this.byIp = new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix: redis.key('login-fail-ip'),
      points: t.loginIpLimit,
      duration: t.loginWindowSeconds,
      blockDuration: t.loginWindowSeconds,
    });
  }

  async assertAllowed(email: string, ip: string): Promise<void> {
    const [acct, ipRes] = await Promise.all([this.byAccountIp.get(`${email}|${ip}`), this.byIp.get(ip)]);
    for (const [res, limit] of [
      [acct, this.byAccountIp.points],
      [ipRes, this.byIp.points],
    ] as const) {
      if (res && res.consumedPoints >= limit) {
        throw rateLimited(Math.ceil(res.msBeforeNext / 1000), 'Too many failed sign-in attempts; try again later');
      }
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    await Promise.all([
      this.byAccountIp.consume(`${email}|${ip}`).catch((r: RateLimiterRes | Error) => {
        if (r instanceof Error) throw r;
      }),
      this.byIp.consume(ip).catch((r: RateLimiterRes | Error) => {
        if (r instanceof Error) throw r;
      }),
    ]);
  }

  async recordSuccess(email: string, ip: string): Promise<void> {
    await this.byAccountIp.delete(`${email}|${ip}`);
  }
}
