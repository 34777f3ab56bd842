import { resolve } from 'node:path';
import { ConfigError, developmentJwtSecret, Env, Reader } from './env-reader';
import { clusterConfig, mediaConfig, messagingConfig, MessagingConfig, paymentsConfig } from './sections';

export type { MessagingConfig } from './sections';

/**
 * The whole runtime configuration, validated once at boot from the environment.
 * Every variable is documented in `.env.example`; a bad value stops the start with a
 * message naming the variable.
 *
 * Hand-written on purpose (and `@nestjs/config` is not a dependency): `main.ts` needs the
 * typed, validated config BEFORE Nest starts (to pick the embedded Postgres/Redis and to stop
 * with one clear message), tests build it from a plain object, and the result is one typed
 * `AppConfig` injected as APP_CONFIG. `ConfigService.get('X')` would add a second, untyped way in.
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
    /** GraphQL operations over WebSocket per user (all connections, all instances) per window. */
    graphqlWsOperations: number;
    graphqlWsWindowSeconds: number;
  };
  graphql: {
    maxDepth: number;
    maxAliases: number;
    maxCost: number;
    maxTokens: number;
    maxDirectives: number;
    playground: boolean;
    /** Largest graphql-ws frame accepted (bytes); a bigger one closes the connection (1009). */
    wsMaxPayloadBytes: number;
    /** Operations (queries, mutations, subscriptions) running at once on one graphql-ws connection. */
    wsMaxOperations: number;
    /**
     * graphql-ws subscribers of one event with the same document, operation and variables (and,
     * unless the subscription is marked shareable, the same viewer) share one execution and one
     * serialised payload (core/graphql/shared-execution.ts). Off: graphql-ws's own per-subscriber path.
     */
    sharedExecution: boolean;
  };
  /** SIGTERM: how long in-flight requests and jobs may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** A socket's session, token version and expiry are re-checked on its events at most this often. */
  socketRecheckMs: number;
  /**
   * How long one process trusts its local answer to "is this session signed out, is this token
   * version current" before asking Redis again (revocations and role changes invalidate it at once
   * through the session-events channel). 0 = no local cache, one Redis round trip per request.
   */
  authCacheTtlMs: number;
  /** The process model started by `src/main.ts` (see src/cluster.ts). */
  cluster: {
    /** Worker processes (Node cluster). 1 = one process serving everything. */
    workers: number;
    /** V8/Node flags the entry starts its worker with (a flag the user already gave wins). */
    runtimeFlags: string[];
    /** Route Socket.IO long-polling by session to its worker (needs `Connection: close`). */
    sticky: boolean;
  };
  priceFeeds: { coingeckoApiKey: string | null; coinmarketcapApiKey: string | null; binanceApiKey: string | null };
  prices: {
    /** Price sources in order of preference: internal (own trades), coingecko, coinmarketcap, binance. */
    providers: PriceProviderName[];
    refreshSeconds: number;
    requestTimeoutMs: number;
    /** Sources further apart than this (basis points of the median) disagree: the median is served. */
    disagreementBps: number;
    /** Minimum time between two calls to one external provider, across instances. */
    minRequestIntervalMs: number;
    coingeckoBaseUrl: string;
    coingeckoPlan: 'demo' | 'pro';
    coinmarketcapBaseUrl: string;
    binanceBaseUrl: string;
  };
  p2p: { minPaymentWindowSeconds: number; releaseWindowSeconds: number; sweepIntervalSeconds: number };
  battles: { minDurationSeconds: number };
  fees: { tradingBps: number; p2pBps: number; tipBps: number; transferBps: number };
  wallet: { btcNetwork: 'mainnet' | 'testnet'; btcXpub: string | null; ethXpub: string | null };
  /** SOFT amounts are decimal strings (8 decimals), parsed by the rewards module. */
  rewards: { poolSeed: string; sweepIntervalSeconds: number; stuckAfterSeconds: number; maxVideoReward: string };
  watch: { heartbeatMinIntervalMs: number; clockToleranceMs: number; maxHeartbeatGapMs: number };
  viewers: { heartbeatMs: number; ttlMs: number };
  /** Video media: object storage, CDN signing, hosted providers (see src/modules/media). */
  media: MediaConfig;
  /** Creator economy: the least time between two creatorStatsUpdated payloads of one creator. */
  creator: { statsIntervalMs: number };
  payments: PaymentsConfig;
  /** Hardening (issue 11): bounds on what rewards, P2P, market data and caches may cost. */
  watchBurst: { heartbeats: number };
  rewardBounds: { creatorDailyBudget: string; minAdSeconds: number; farmingThreshold: number };
  p2pLimits: { maxOpenEscrowsPerBuyer: number; maxCancellationsPerDay: number };
  klines: { maxCandles: number; cacheTtlMs: number };
  ledger: {
    accountCacheSize: number;
    /** Group commit (issue 16): autocommitted transfers that arrive while a batch is in flight go in the next ledger_post_batch call; fills and payouts post in one call. */
    groupCommit: boolean;
    /** Most transfers (legs) one batch statement carries. */
    batchMax: number;
    /** Batch statements one instance keeps in flight at once. */
    batchConcurrency: number;
  };
  outbox: { sweepIntervalSeconds: number; maxAttempts: number };
  /** Chat, presence and notifications (see MessagingConfig). */
  messaging: MessagingConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  serveClient: boolean;
  metricsEnabled: boolean;
  queuesEnabled: boolean;
}

export interface MediaConfig {
  /** null when S3_BUCKET is unset: direct uploads and s3 sources are disabled. */
  s3: { bucket: string; region: string; endpoint: string | null; forcePathStyle: boolean; accessKeyId: string | null; secretAccessKey: string | null } | null;
  maxUploadBytes: number;
  uploadUrlTtlSeconds: number;
  playbackUrlTtlSeconds: number;
  cloudfront: { domain: string; keyPairId: string; privateKey: string } | null;
  cloudflare: { accountId: string | null; apiToken: string | null; streamKeyId: string | null; streamSigningKey: string | null; apiBase: string; deliveryBase: string };
  vimeo: { accessToken: string | null; apiBase: string };
  youtube: { apiKey: string | null; apiBase: string };
  requestTimeoutMs: number;
  metadataCacheSeconds: number;
}

/** Payment providers (src/modules/payments). A provider whose keys are missing is disabled, never faked. */
export interface PaymentsConfig {
  returnUrl: string;
  /** Public base URL of this API, for providers that take a notification URL per checkout (BitPay, CoinPayments). */
  webhookBaseUrl: string;
  /** Checkout bounds in USD cents. */
  minAmountMinor: bigint;
  maxAmountMinor: bigint;
  checkoutExpiryMinutes: number;
  reconcileAfterMinutes: number;
  reconcileIntervalSeconds: number;
  requestTimeoutMs: number;
  stripe: { secretKey: string | null; webhookSecret: string | null; apiBase: string };
  paypal: { clientId: string | null; clientSecret: string | null; webhookId: string | null; apiBase: string };
  flutterwave: { secretKey: string | null; webhookHash: string | null; apiBase: string };
  coinbaseCommerce: { apiKey: string | null; webhookSecret: string | null; apiBase: string };
  bitpay: { token: string | null; webhookSecret: string | null; apiBase: string };
  coinpayments: { publicKey: string | null; privateKey: string | null; merchantId: string | null; ipnSecret: string | null; coin: string; apiBase: string };
}

export const PRICE_PROVIDER_NAMES = ['internal', 'coingecko', 'coinmarketcap', 'binance'] as const;
export type PriceProviderName = (typeof PRICE_PROVIDER_NAMES)[number];

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

  // Without account xpubs the wallet derives deposit addresses from a generated development key:
  // in production that would hand out mainnet addresses whose private key nobody holds.
  for (const name of ['BTC_XPUB', 'ETH_XPUB']) {
    if (isProduction && !r.raw(name)) r.problems.push(`${name} is required when NODE_ENV=production`);
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
  /** A SOFT amount (8 decimals) as a plain decimal string; "0" allowed. */
  const softAmount = (name: string, fallback: string): string => {
    const v = r.str(name, fallback);
    if (!/^\d{1,30}(\.\d{1,8})?$/.test(v)) {
      r.problems.push(`${name} must be a SOFT amount like 1000000 or 0.5 (at most 8 decimals), got "${v}"`);
      return fallback;
    }
    return v;
  };

  const feedKeys = { coingecko: r.optional('COINGECKO_API_KEY'), coinmarketcap: r.optional('COINMARKETCAP_API_KEY'), binance: r.optional('BINANCE_API_KEY') };
  const coingeckoPlan = r.oneOf('COINGECKO_PLAN', ['demo', 'pro'] as const, 'demo');
  let priceProviders: PriceProviderName[];
  const providersRaw = r.raw('PRICE_PROVIDERS');
  if (providersRaw) {
    priceProviders = [...new Set(providersRaw.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean))] as PriceProviderName[];
    const unknown = priceProviders.filter((p) => !(PRICE_PROVIDER_NAMES as readonly string[]).includes(p));
    if (unknown.length) r.problems.push(`PRICE_PROVIDERS has unknown providers: ${unknown.join(', ')} (known: ${PRICE_PROVIDER_NAMES.join(', ')})`);
    if (priceProviders.includes('coinmarketcap') && !feedKeys.coinmarketcap) r.problems.push('PRICE_PROVIDERS lists coinmarketcap but COINMARKETCAP_API_KEY is not set');
  } else {
    // Default: every external feed that has a key, then the platform's own trades (works offline).
    priceProviders = [...(['coingecko', 'coinmarketcap', 'binance'] as const).filter((p) => feedKeys[p]), 'internal'];
  }

  const media = mediaConfig(r);
  const payments = paymentsConfig(r);

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
      graphqlWsOperations: r.int('THROTTLE_GRAPHQL_WS_OPERATIONS', 1200, 1, 10_000_000),
      graphqlWsWindowSeconds: r.int('THROTTLE_GRAPHQL_WS_WINDOW_SECONDS', 60, 1, 86400),
    },
    graphql: {
      maxDepth: r.int('GRAPHQL_MAX_DEPTH', 10, 2, 100),
      maxAliases: r.int('GRAPHQL_MAX_ALIASES', 15, 1, 1000),
      maxCost: r.int('GRAPHQL_MAX_COST', 2000, 10, 1_000_000),
      maxTokens: r.int('GRAPHQL_MAX_TOKENS', 1000, 200, 100_000),
      maxDirectives: r.int('GRAPHQL_MAX_DIRECTIVES', 50, 1, 10_000),
      playground: r.bool('GRAPHQL_PLAYGROUND', !isProduction),
      wsMaxPayloadBytes: r.int('GRAPHQL_WS_MAX_PAYLOAD_BYTES', 65_536, 4096, 10_485_760),
      wsMaxOperations: r.int('GRAPHQL_WS_MAX_OPERATIONS', 100, 1, 10_000),
      sharedExecution: r.bool('GRAPHQL_SHARED_EXECUTION', true),
    },
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 25_000, 1000, 600_000),
    socketRecheckMs: r.int('SOCKET_RECHECK_MS', 1000, 0, 60_000),
    authCacheTtlMs: r.int('AUTH_CACHE_TTL_MS', 2000, 0, 60_000),
    cluster: clusterConfig(r),
    priceFeeds: {
      coingeckoApiKey: r.optional('COINGECKO_API_KEY'),
      coinmarketcapApiKey: r.optional('COINMARKETCAP_API_KEY'),
      binanceApiKey: r.optional('BINANCE_API_KEY'),
    },
    prices: {
      providers: priceProviders,
      refreshSeconds: r.int('PRICE_REFRESH_SECONDS', 60, 1, 86400),
      requestTimeoutMs: r.int('PRICE_REQUEST_TIMEOUT_MS', 5000, 100, 60000),
      disagreementBps: r.int('PRICE_DISAGREEMENT_BPS', 100, 1, 10000),
      minRequestIntervalMs: r.int('PRICE_MIN_REQUEST_INTERVAL_MS', 2000, 0, 3_600_000),
      coingeckoBaseUrl:
        r.url('COINGECKO_BASE_URL', ['http:', 'https:']) ?? (coingeckoPlan === 'pro' ? 'https://pro-api.coingecko.com/api/v3' : 'https://api.coingecko.com/api/v3'),
      coingeckoPlan,
      coinmarketcapBaseUrl: r.url('COINMARKETCAP_BASE_URL', ['http:', 'https:']) ?? 'https://pro-api.coinmarketcap.com',
      binanceBaseUrl: r.url('BINANCE_BASE_URL', ['http:', 'https:']) ?? 'https://api.binance.com',
    },
    p2p: {
      minPaymentWindowSeconds: r.int('P2P_MIN_PAYMENT_WINDOW_SECONDS', 300, 1, 86400),
      releaseWindowSeconds: r.int('P2P_RELEASE_WINDOW_SECONDS', 1800, 1, 7 * 86400),
      sweepIntervalSeconds: r.int('P2P_SWEEP_INTERVAL_SECONDS', 30, 1, 3600),
    },
    battles: {
      minDurationSeconds: r.int('BATTLE_MIN_DURATION_SECONDS', 10, 1, 86400),
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
    rewards: {
      poolSeed: softAmount('REWARDS_POOL_SEED', '1000000'),
      sweepIntervalSeconds: r.int('REWARDS_SWEEP_INTERVAL_SECONDS', 60, 1, 86400),
      stuckAfterSeconds: r.int('REWARDS_STUCK_AFTER_SECONDS', 30, 0, 86400),
      maxVideoReward: softAmount('REWARDS_MAX_VIDEO_REWARD', '10'),
    },
    watch: {
      heartbeatMinIntervalMs: r.int('WATCH_HEARTBEAT_MIN_INTERVAL_MS', 1000, 50, 60_000),
      clockToleranceMs: r.int('WATCH_CLOCK_TOLERANCE_MS', 2000, 0, 60_000),
      maxHeartbeatGapMs: r.int('WATCH_MAX_HEARTBEAT_GAP_SECONDS', 30, 1, 3600) * 1000,
    },
    payments,
    viewers: {
      heartbeatMs: r.int('VIEWERS_HEARTBEAT_MS', 2000, 100, 60_000),
      ttlMs: r.int('VIEWERS_TTL_MS', 8000, 300, 600_000),
    },
    media,
    creator: {
      statsIntervalMs: r.int('CREATOR_STATS_INTERVAL_MS', 1000, 100, 60_000),
    },
    watchBurst: { heartbeats: r.int('WATCH_HEARTBEAT_BURST', 2, 1, 100) },
    rewardBounds: {
      creatorDailyBudget: softAmount('REWARDS_CREATOR_DAILY_BUDGET', '1000'),
      minAdSeconds: r.int('REWARDS_MIN_AD_SECONDS', 5, 0, 300),
      farmingThreshold: r.int('REWARDS_FARMING_THRESHOLD', 20, 1, 1_000_000),
    },
    p2pLimits: {
      maxOpenEscrowsPerBuyer: r.int('P2P_MAX_OPEN_ESCROWS_PER_BUYER', 5, 1, 1000),
      maxCancellationsPerDay: r.int('P2P_MAX_CANCELLATIONS_PER_DAY', 3, 1, 1000),
    },
    klines: {
      maxCandles: r.int('KLINES_MAX_CANDLES', 1000, 10, 5000),
      cacheTtlMs: r.int('KLINES_CACHE_TTL_MS', 2000, 0, 60_000),
    },
    ledger: {
      accountCacheSize: r.int('LEDGER_ACCOUNT_CACHE_SIZE', 10_000, 10, 10_000_000),
      groupCommit: r.bool('LEDGER_GROUP_COMMIT', true),
      batchMax: r.int('LEDGER_BATCH_MAX', 50, 1, 500),
      batchConcurrency: r.int('LEDGER_BATCH_CONCURRENCY', 2, 1, 16),
    },
    outbox: {
      sweepIntervalSeconds: r.int('OUTBOX_SWEEP_INTERVAL_SECONDS', 30, 1, 3600),
      maxAttempts: r.int('OUTBOX_MAX_ATTEMPTS', 10, 1, 1000),
    },
    messaging: messagingConfig(r),
  };
  if (config.viewers.ttlMs < config.viewers.heartbeatMs * 2) r.problems.push('VIEWERS_TTL_MS must be at least twice VIEWERS_HEARTBEAT_MS');

  if (r.problems.length) throw new ConfigError(r.problems);
  return config;
}

/** Injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
