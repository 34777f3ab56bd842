import { availableParallelism } from 'node:os';
import type { AppConfig, MediaConfig, PaymentsConfig } from './config';
import type { Reader } from './env-reader';

/** Sections of `loadConfig` read by their own function (called in the same order, so problems list the same). */

/** Video media: object storage, CDN signing, hosted providers. */
export function mediaConfig(r: Reader): MediaConfig {
  const cf = [r.optional('CLOUDFRONT_DOMAIN'), r.optional('CLOUDFRONT_KEY_PAIR_ID'), r.optional('CLOUDFRONT_PRIVATE_KEY')] as const;
  if (cf.some(Boolean) && !cf.every(Boolean)) r.problems.push('CLOUDFRONT_DOMAIN, CLOUDFRONT_KEY_PAIR_ID and CLOUDFRONT_PRIVATE_KEY must be set together');
  const together = (...names: string[]) => {
    const set = names.filter((n) => r.raw(n) !== undefined);
    if (set.length && set.length < names.length) r.problems.push(`${names.join(' and ')} must be set together`);
  };
  together('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
  together('CLOUDFLARE_ACCOUNT_ID', 'CLOUDFLARE_API_TOKEN');
  together('CLOUDFLARE_STREAM_KEY_ID', 'CLOUDFLARE_STREAM_SIGNING_KEY');
  const s3Bucket = r.optional('S3_BUCKET');
  const s3Endpoint = r.url('S3_ENDPOINT', ['http:', 'https:']);
  return {
    s3: s3Bucket
      ? {
          bucket: s3Bucket,
          region: r.str('S3_REGION', 'us-east-1'),
          endpoint: s3Endpoint,
          forcePathStyle: r.bool('S3_FORCE_PATH_STYLE', !!s3Endpoint),
          accessKeyId: r.optional('AWS_ACCESS_KEY_ID'),
          secretAccessKey: r.optional('AWS_SECRET_ACCESS_KEY'),
        }
      : null,
    maxUploadBytes: r.int('VIDEO_MAX_UPLOAD_BYTES', 5 * 1024 ** 3, 1, 5 * 1024 ** 3),
    uploadUrlTtlSeconds: r.int('VIDEO_UPLOAD_URL_TTL_SECONDS', 900, 1, 3600),
    playbackUrlTtlSeconds: r.int('PLAYBACK_URL_TTL_SECONDS', 3600, 1, 7 * 86400),
    cloudfront: cf.every(Boolean) ? { domain: cf[0]!, keyPairId: cf[1]!, privateKey: cf[2]! } : null,
    cloudflare: {
      accountId: r.optional('CLOUDFLARE_ACCOUNT_ID'),
      apiToken: r.optional('CLOUDFLARE_API_TOKEN'),
      streamKeyId: r.optional('CLOUDFLARE_STREAM_KEY_ID'),
      streamSigningKey: r.optional('CLOUDFLARE_STREAM_SIGNING_KEY'),
      apiBase: r.url('CLOUDFLARE_API_BASE', ['http:', 'https:']) ?? 'https://api.cloudflare.com/client/v4',
      deliveryBase: r.url('CLOUDFLARE_STREAM_DELIVERY_BASE', ['https:']) ?? 'https://videodelivery.net',
    },
    vimeo: { accessToken: r.optional('VIMEO_ACCESS_TOKEN'), apiBase: r.url('VIMEO_API_BASE', ['http:', 'https:']) ?? 'https://api.vimeo.com' },
    youtube: { apiKey: r.optional('YOUTUBE_API_KEY'), apiBase: r.url('YOUTUBE_API_BASE', ['http:', 'https:']) ?? 'https://www.googleapis.com/youtube/v3' },
    requestTimeoutMs: r.int('MEDIA_REQUEST_TIMEOUT_MS', 5000, 100, 60_000),
    metadataCacheSeconds: r.int('MEDIA_METADATA_CACHE_SECONDS', 3600, 1, 7 * 86400),
  };
}

/** Top-ups through payment providers. */
export function paymentsConfig(r: Reader): PaymentsConfig {
  /** A USD amount like "1.00" → cents. */
  const cents = (m: RegExpExecArray) => BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
  const USD_RE = /^(\d{1,9})(?:\.(\d{1,2}))?$/;
  const usdCents = (name: string, fallback: string): bigint => {
    const v = r.str(name, fallback);
    const m = USD_RE.exec(v);
    if (m) return cents(m);
    r.problems.push(`${name} must be a USD amount like 10000.00, got "${v}"`);
    return cents(USD_RE.exec(fallback)!);
  };
  const apiBase = (name: string, fallback: string) => (r.url(name, ['http:', 'https:']) ?? fallback).replace(/\/+$/, '');
  const payments: PaymentsConfig = {
    returnUrl: r.url('PAYMENTS_RETURN_URL', ['http:', 'https:']) ?? 'http://localhost:8080/wallet',
    webhookBaseUrl: (r.url('PAYMENTS_WEBHOOK_BASE_URL', ['http:', 'https:']) ?? 'http://localhost:3001').replace(/\/+$/, ''),
    minAmountMinor: usdCents('PAYMENTS_MIN_AMOUNT', '1.00'),
    maxAmountMinor: usdCents('PAYMENTS_MAX_AMOUNT', '10000.00'),
    checkoutExpiryMinutes: r.int('PAYMENTS_CHECKOUT_EXPIRY_MINUTES', 24 * 60, 30, 7 * 24 * 60),
    reconcileAfterMinutes: r.int('PAYMENTS_RECONCILE_AFTER_MINUTES', 15, 0, 7 * 24 * 60),
    reconcileIntervalSeconds: r.int('PAYMENTS_RECONCILE_INTERVAL_SECONDS', 300, 5, 86400),
    requestTimeoutMs: r.int('PAYMENTS_REQUEST_TIMEOUT_MS', 10000, 100, 120000),
    stripe: { secretKey: r.optional('STRIPE_SECRET_KEY'), webhookSecret: r.optional('STRIPE_WEBHOOK_SECRET'), apiBase: apiBase('STRIPE_API_BASE', 'https://api.stripe.com') },
    paypal: {
      clientId: r.optional('PAYPAL_CLIENT_ID'),
      clientSecret: r.optional('PAYPAL_CLIENT_SECRET'),
      webhookId: r.optional('PAYPAL_WEBHOOK_ID'),
      apiBase: apiBase('PAYPAL_API_BASE', 'https://api-m.paypal.com'),
    },
    flutterwave: {
      secretKey: r.optional('FLUTTERWAVE_SECRET_KEY'),
      webhookHash: r.optional('FLUTTERWAVE_WEBHOOK_HASH'),
      apiBase: apiBase('FLUTTERWAVE_API_BASE', 'https://api.flutterwave.com'),
    },
    coinbaseCommerce: {
      apiKey: r.optional('COINBASE_COMMERCE_API_KEY'),
      webhookSecret: r.optional('COINBASE_COMMERCE_WEBHOOK_SECRET'),
      apiBase: apiBase('COINBASE_COMMERCE_API_BASE', 'https://api.commerce.coinbase.com'),
    },
    bitpay: { token: r.optional('BITPAY_TOKEN'), webhookSecret: r.optional('BITPAY_WEBHOOK_SECRET'), apiBase: apiBase('BITPAY_API_BASE', 'https://bitpay.com') },
    coinpayments: {
      publicKey: r.optional('COINPAYMENTS_PUBLIC_KEY'),
      privateKey: r.optional('COINPAYMENTS_PRIVATE_KEY'),
      merchantId: r.optional('COINPAYMENTS_MERCHANT_ID'),
      ipnSecret: r.optional('COINPAYMENTS_IPN_SECRET'),
      coin: r.str('COINPAYMENTS_COIN', 'BTC'),
      apiBase: apiBase('COINPAYMENTS_API_BASE', 'https://www.coinpayments.net'),
    },
  };
  if (payments.minAmountMinor <= 0n || payments.maxAmountMinor < payments.minAmountMinor) {
    r.problems.push('PAYMENTS_MIN_AMOUNT must be above 0 and at most PAYMENTS_MAX_AMOUNT');
  }
  return payments;
}

// ---------------------------------------------------------------------------- process model
/** The flags the benchmarks found necessary (docs/BENCHMARKS.md): a young generation large enough for fan-out bursts. */
export const DEFAULT_RUNTIME_FLAGS = ['--max-semi-space-size=64'];

export function clusterConfig(r: Reader): AppConfig['cluster'] {
  // One worker unless asked: on a host that also runs Postgres and Redis (and, in the benchmarks,
  // the load generator) a second worker measured no faster for transfers and slower for chat
  // fan-out (docs/BENCHMARKS.md, issue 16). `auto` = one per core where the database is elsewhere.
  const cores = availableParallelism();
  let workers = 1;
  const raw = r.raw('WEB_CONCURRENCY');
  if (raw !== undefined) {
    if (raw.toLowerCase() === 'auto') workers = cores;
    else workers = r.int('WEB_CONCURRENCY', workers, 1, 256);
  }
  let runtimeFlags = DEFAULT_RUNTIME_FLAGS;
  const flags = r.raw('RUNTIME_FLAGS');
  if (flags !== undefined) {
    runtimeFlags = flags.toLowerCase() === 'none' ? [] : flags.split(/\s+/).filter(Boolean);
    const bad = runtimeFlags.filter((f) => !/^--[a-z0-9][a-z0-9_-]*(=[^\s]+)?$/i.test(f));
    if (bad.length) r.problems.push(`RUNTIME_FLAGS holds flags like --max-semi-space-size=64 (or "none"), got ${bad.join(' ')}`);
  }
  return { workers, runtimeFlags, sticky: r.bool('CLUSTER_STICKY', true) };
}

// ---------------------------------------------------------------------------- chat, presence, notifications
export interface MessagingConfig {
  chat: {
    /** Messages one user may send per window, over every transport and instance. */
    sendLimit: number;
    sendWindowSeconds: number;
    /** How often every instance sweeps expired typing entries. */
    typingSweepMs: number;
  };
  presence: {
    heartbeatMs: number;
    ttlMs: number;
    /** Changes of one user within this window are announced once, as their net effect. */
    coalesceMs: number;
    /** Chosen-status changes (`update_presence`) a user may make per minute. */
    statusChangesPerMinute: number;
    /** Presence is pushed only through rooms up to this size; larger rooms read it on demand. */
    roomFanoutMaxMembers: number;
    /** At most this many recipients per announcement. */
    maxAudience: number;
  };
  notifications: { batchSize: number };
}

export function messagingConfig(r: Reader): MessagingConfig {
  const m: MessagingConfig = {
    chat: {
      sendLimit: r.int('THROTTLE_CHAT_MESSAGES', 30, 1, 10_000_000),
      sendWindowSeconds: r.int('THROTTLE_CHAT_WINDOW_SECONDS', 10, 1, 3600),
      typingSweepMs: r.int('CHAT_TYPING_SWEEP_MS', 500, 50, 5000),
    },
    presence: {
      heartbeatMs: r.int('PRESENCE_HEARTBEAT_MS', 3000, 100, 60_000),
      ttlMs: r.int('PRESENCE_TTL_MS', 10_000, 300, 600_000),
      coalesceMs: r.int('PRESENCE_COALESCE_MS', 250, 0, 10_000),
      statusChangesPerMinute: r.int('PRESENCE_STATUS_CHANGES_PER_MINUTE', 30, 1, 10_000),
      roomFanoutMaxMembers: r.int('PRESENCE_ROOM_FANOUT_MAX_MEMBERS', 1000, 2, 1_000_000),
      maxAudience: r.int('PRESENCE_MAX_AUDIENCE', 5000, 1, 1_000_000),
    },
    notifications: { batchSize: r.int('NOTIFICATIONS_BATCH_SIZE', 500, 1, 10_000) },
  };
  if (m.presence.ttlMs < m.presence.heartbeatMs * 2) r.problems.push('PRESENCE_TTL_MS must be at least twice PRESENCE_HEARTBEAT_MS');
  return m;
}
