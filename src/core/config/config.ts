import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

/**
 * The whole runtime configuration, validated once at boot from the environment.
 * Every variable is documented in `.env.example`; a bad value stops the start with a
 * message naming the variable.
 */
export interface AppConfig {
  nodeEnv: 'development' | 'test' | 'production';
  isProduction: boolean;
  port: number;
  host: string;
  dataDir: string;
  database: { url: string | null; poolSize: number; migrationsRun: boolean; logQueries: boolean };
  redis: { url: string | null; prefix: string };
  jwt: { secret: string; accessTtlSeconds: number; refreshTtlSeconds: number; issuer: string };
  passwordHash: { memoryCost: number; timeCost: number };
  admin: { email: string | null; password: string | null };
  corsOrigins: string[];
  trustProxy: string;
  throttle: {
    ttlSeconds: number;
    limit: number;
    loginAccountLimit: number;
    loginIpLimit: number;
    loginWindowSeconds: number;
    socketEventsPerSecond: number;
    socketBurst: number;
    registerPerMinute: number;
  };
  graphql: { maxDepth: number; maxAliases: number; maxCost: number; playground: boolean };
  priceFeeds: { coingeckoApiKey: string | null; coinmarketcapApiKey: string | null; binanceApiKey: string | null };
  p2p: { minPaymentWindowSeconds: number; releaseWindowSeconds: number };
  fees: { tradingBps: number; p2pBps: number; tipBps: number; transferBps: number };
  wallet: { btcNetwork: 'mainnet' | 'testnet'; btcXpub: string | null; ethXpub: string | null };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  serveClient: boolean;
  metricsEnabled: boolean;
  queuesEnabled: boolean;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}\nSee .env.example for every variable and its meaning.`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Small typed readers that record a problem instead of throwing, so all problems are reported at once. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  str(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | null {
    return this.raw(name) ?? null;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v)) {
      this.problems.push(`${name} must be an integer, got "${v}"`);
      return fallback;
    }
    const n = Number(v);
    if (n < min || n > max) {
      this.problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    this.problems.push(`${name} must be true or false, got "${v}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
      return fallback;
    }
    return v as T;
  }

  url(name: string, protocols: string[]): string | null {
    const v = this.raw(name);
    if (v === undefined) return null;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')}, got "${u.protocol}"`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return v;
  }

  /** Duration like 900, "900s", "15m", "12h", "30d" → seconds. */
  duration(name: string, fallbackSeconds: number, minSeconds: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallbackSeconds;
    const m = /^(\d+)\s*(s|m|h|d)?$/.exec(v);
    if (!m) {
      this.problems.push(`${name} must be a duration like 900, 15m, 12h or 30d, got "${v}"`);
      return fallbackSeconds;
    }
    const mult = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
    const seconds = Number(m[1]) * mult;
    if (seconds < minSeconds) {
      this.problems.push(`${name} must be at least ${minSeconds} seconds, got ${seconds}`);
      return fallbackSeconds;
    }
    return seconds;
  }
}

/**
 * In development a missing JWT_SECRET is replaced by a random one kept under the data
 * directory, so tokens survive restarts and several local instances agree.
 */
function developmentJwtSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    const s = readFileSync(file, 'utf8').trim();
    if (s.length >= 32) return s;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const r = new Reader(env);
  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'test', 'production'] as const, 'development');
  const isProduction = nodeEnv === 'production';
  const dataDir = resolve(r.str('DATA_DIR', './.data'));

  const databaseUrl = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = r.url('REDIS_URL', ['redis:', 'rediss:']);
  if (isProduction && !databaseUrl) r.problems.push('DATABASE_URL is required when NODE_ENV=production (the embedded Postgres is for development only)');
  if (isProduction && !redisUrl) r.problems.push('REDIS_URL is required when NODE_ENV=production');

  let jwtSecret = r.raw('JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    r.problems.push('JWT_SECRET must be at least 32 characters long');
  }
  if (!jwtSecret) {
    if (isProduction) r.problems.push('JWT_SECRET is required when NODE_ENV=production');
    else jwtSecret = developmentJwtSecret(dataDir);
  }

  const adminEmail = r.optional('ADMIN_EMAIL');
  const adminPassword = r.optional('ADMIN_PASSWORD');
  if ((adminEmail && !adminPassword) || (!adminEmail && adminPassword)) {
    r.problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (adminEmail && !/^[^\s@]+@[^\s@]+$/.test(adminEmail)) r.problems.push('ADMIN_EMAIL is not an email address');
  if (adminPassword && adminPassword.length < 8) r.problems.push('ADMIN_PASSWORD must be at least 8 characters long');

  const corsOrigins = r
    .str('CORS_ORIGINS', 'http://localhost:8080')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin === '*') continue;
    try {
      new URL(origin);
    } catch {
      r.problems.push(`CORS_ORIGINS contains "${origin}", which is not an origin like https://app.example.com`);
    }
  }

  const prefix = r.str('REDIS_PREFIX', 'softchat');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) r.problems.push('REDIS_PREFIX may hold only letters, digits and _.:- (at most 64)');

  const bps = (name: string) => r.int(name, 0, 0, 10000);

  const config: AppConfig = {
    nodeEnv,
    isProduction,
    port: r.int('PORT', 3001, 0, 65535),
    host: r.str('HOST', '0.0.0.0'),
    dataDir,
    database: {
      url: databaseUrl,
      poolSize: r.int('DATABASE_POOL_SIZE', 10, 1, 200),
      migrationsRun: r.bool('MIGRATIONS_RUN', true),
      logQueries: r.bool('DATABASE_LOG_QUERIES', false),
    },
    redis: { url: redisUrl, prefix },
    jwt: {
      secret: jwtSecret ?? '',
      accessTtlSeconds: r.duration('JWT_ACCESS_TTL', 900, 30),
      refreshTtlSeconds: r.duration('JWT_REFRESH_TTL', 30 * 86400, 60),
      issuer: r.str('JWT_ISSUER', 'softchat-realtime'),
    },
    passwordHash: {
      memoryCost: r.int('PASSWORD_HASH_MEMORY_KIB', 19456, 1024, 1048576),
      timeCost: r.int('PASSWORD_HASH_ITERATIONS', 2, 1, 20),
    },
    admin: { email: adminEmail?.toLowerCase() ?? null, password: adminPassword },
    corsOrigins,
    trustProxy: r.str('TRUST_PROXY', 'loopback, linklocal, uniquelocal'),
    throttle: {
      ttlSeconds: r.int('THROTTLE_TTL_SECONDS', 60, 1, 86400),
      limit: r.int('THROTTLE_LIMIT', 1200, 1, 10_000_000),
      loginAccountLimit: r.int('THROTTLE_LOGIN_ACCOUNT_LIMIT', 10, 1, 100000),
      loginIpLimit: r.int('THROTTLE_LOGIN_IP_LIMIT', 100, 1, 1000000),
      loginWindowSeconds: r.int('THROTTLE_LOGIN_WINDOW_SECONDS', 900, 1, 86400),
      socketEventsPerSecond: r.int('THROTTLE_SOCKET_EVENTS_PER_SECOND', 20, 1, 100000),
      socketBurst: r.int('THROTTLE_SOCKET_BURST', 60, 1, 1000000),
      registerPerMinute: r.int('THROTTLE_REGISTER_PER_MINUTE', 30, 1, 1000000),
    },
    graphql: {
      maxDepth: r.int('GRAPHQL_MAX_DEPTH', 10, 2, 100),
      maxAliases: r.int('GRAPHQL_MAX_ALIASES', 15, 1, 1000),
      maxCost: r.int('GRAPHQL_MAX_COST', 2000, 10, 1_000_000),
      playground: r.bool('GRAPHQL_PLAYGROUND', !isProduction),
    },
    priceFeeds: {
      coingeckoApiKey: r.optional('COINGECKO_API_KEY'),
      coinmarketcapApiKey: r.optional('COINMARKETCAP_API_KEY'),
      binanceApiKey: r.optional('BINANCE_API_KEY'),
    },
    p2p: {
      minPaymentWindowSeconds: r.int('P2P_MIN_PAYMENT_WINDOW_SECONDS', 300, 1, 86400),
      releaseWindowSeconds: r.int('P2P_RELEASE_WINDOW_SECONDS', 1800, 1, 7 * 86400),
    },
    fees: {
      tradingBps: bps('TRADING_FEE_BPS'),
      p2pBps: bps('P2P_FEE_BPS'),
      tipBps: bps('TIP_FEE_BPS'),
      transferBps: bps('TRANSFER_FEE_BPS'),
    },
    wallet: {
      btcNetwork: r.oneOf('BTC_NETWORK', ['mainnet', 'testnet'] as const, 'mainnet'),
      btcXpub: r.optional('BTC_XPUB'),
      ethXpub: r.optional('ETH_XPUB'),
    },
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, nodeEnv === 'test' ? 'warn' : 'info'),
    serveClient: r.bool('SERVE_CLIENT', true),
    metricsEnabled: r.bool('METRICS_ENABLED', true),
    queuesEnabled: r.bool('QUEUE_WORKERS', true),
  };

  if (r.problems.length) throw new ConfigError(r.problems);
  return config;
}

/** Injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
