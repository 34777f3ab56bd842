import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { RedisService } from '../../core/redis/redis.service';
import { rateLimited } from '../../core/http/domain-error';

/**
 * Sign-in and sign-up brakes, much tighter than the general rate limit and shared by all
 * instances through Redis. Keys are the account (email) with the client IP, and the IP alone:
 * never a Bearer token the caller attaches, so signing in elsewhere buys no allowance.
 *
 * A sign-in attempt takes its points atomically BEFORE the password is checked (so parallel
 * guesses cannot all slip past a read-then-write check) and gives them back when it succeeds:
 * only failures count.
 */
@Injectable()
export class LoginThrottleService {
  private readonly byAccountIp: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;
  private readonly registerByIp: RateLimiterRedis;

  constructor(redis: RedisService, @Inject(APP_CONFIG) config: AppConfig) {
    const t = config.throttle;
    const limiter = (name: string, points: number, duration: number, blockDuration = 0) =>
      new RateLimiterRedis({ storeClient: redis.client, keyPrefix: redis.key(name), points, duration, blockDuration });
    this.byAccountIp = limiter('login-fail-acct', t.loginAccountLimit, t.loginWindowSeconds, t.loginWindowSeconds);
    this.byIp = limiter('login-fail-ip', t.loginIpLimit, t.loginWindowSeconds, t.loginWindowSeconds);
    this.registerByIp = limiter('register-ip', t.registerPerMinute, 60);
  }

  /** Takes one attempt from the account+IP and the IP allowances, or throws 429 (Retry-After). */
  async consumeLogin(email: string, ip: string): Promise<void> {
    await consumeAll(
      [
        [this.byAccountIp, `${email}|${ip}`],
        [this.byIp, ip],
      ],
      'Too many failed sign-in attempts; try again later',
    );
  }

  /** A successful sign-in: its attempt does not count. */
  async refundLogin(email: string, ip: string): Promise<void> {
    await Promise.all([this.byAccountIp.reward(`${email}|${ip}`, 1), this.byIp.reward(ip, 1)]);
  }

  async consumeRegister(ip: string): Promise<void> {
    await consumeAll([[this.registerByIp, ip]], 'Too many sign-ups from this address; try again later');
  }
}

/**
 * Consumes one point from each limiter; if any refuses, the points taken from the others are
 * given back (the attempt is not made) and a 429 with the longest wait is thrown.
 */
async function consumeAll(entries: [RateLimiterRedis, string][], message: string): Promise<void> {
  const results = await Promise.allSettled(entries.map(([l, key]) => l.consume(key)));
  const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as RateLimiterRes | Error] : []));
  if (!refused.length) return;
  const failure = refused.find((r) => r instanceof Error);
  await Promise.all(entries.map(([l, key], i) => (results[i].status === 'fulfilled' ? l.reward(key, 1) : undefined)));
  if (failure) throw failure;
  const wait = Math.max(...(refused as RateLimiterRes[]).map((r) => r.msBeforeNext));
  throw rateLimited(Math.max(1, Math.ceil(wait / 1000)), message);
}
