import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { PaymentEventKind } from '../payment.machine';

export const PROVIDER_NAMES = ['stripe', 'paypal', 'flutterwave', 'coinbase_commerce', 'bitpay', 'coinpayments'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
export const isProviderName = (x: unknown): x is ProviderName => typeof x === 'string' && (PROVIDER_NAMES as readonly string[]).includes(x);

export interface CheckoutRequest {
  paymentId: string;
  userId: string;
  /** USD cents. */
  amountMinor: bigint;
  currency: 'USD';
  description: string;
  returnUrl: string;
  cancelUrl: string;
  /** Where the provider should post events, for providers that take it per checkout. */
  webhookUrl: string;
  expiresAt: Date;
}

export interface CheckoutResult {
  providerRef: string;
  checkoutUrl: string;
  clientSecret?: string | null;
}

/**
 * An event, normalised. `amountMinor` is in the currency's minor unit: for `paid` what was
 * paid, for `refunded`/`disputed` the total refunded so far; null when the provider does not
 * say (the machine then assumes the checkout amount, or everything credited).
 */
export interface NormalisedEvent {
  kind: PaymentEventKind | 'ignored';
  providerEventId: string;
  /** The checkout's reference (or a secondary one, see `paymentRef`). */
  providerRef: string | null;
  amountMinor: bigint | null;
  currency: string | null;
  /** Our payment id, when the provider echoes the metadata we gave it (verified with the signature). */
  paymentId?: string | null;
  /** A second reference the provider uses for this payment (Stripe PaymentIntent, PayPal capture, Flutterwave transaction). */
  paymentRef?: string | null;
  /** Work the provider needs from us before it can complete (PayPal: capture an approved order). */
  followUp?: 'settle';
}

/** What a provider says about a checkout now (reconciliation). */
export interface StatusReport {
  kind: PaymentEventKind;
  amountMinor: bigint | null;
  currency: string | null;
  paymentRef?: string | null;
}

export interface ProviderInfo {
  provider: ProviderName;
  kind: 'fiat' | 'crypto';
  assets: string[];
  enabled: boolean;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  readonly kind: 'fiat' | 'crypto';
  /** Its keys are configured. */
  readonly enabled: boolean;
  createCheckout(req: CheckoutRequest): Promise<CheckoutResult>;
  /** Throws `WebhookRejected` unless the raw body carries the provider's valid signature. */
  verifyAndParseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): Promise<NormalisedEvent>;
  fetchStatus(providerRef: string): Promise<StatusReport>;
}

/** A webhook that fails verification (bad or stale signature, wrong merchant, unreadable body): 400. */
export class WebhookRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookRejected';
  }
}

/** The provider's API failed or answered something unusable: 502 (or 503 when unreachable). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly unavailable = false,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function hmac(algo: 'sha256' | 'sha512', key: string, data: Buffer | string, enc: 'hex' | 'base64' = 'hex'): string {
  return createHmac(algo, key).update(data).digest(enc);
}

export function parseJson(raw: Buffer): any {
  try {
    const v = JSON.parse(raw.toString('utf8'));
    if (!v || typeof v !== 'object') throw new Error('not an object');
    return v;
  } catch {
    throw new WebhookRejected('The body is not a JSON object');
  }
}

/** "12.34" / 12.34 → 1234n (2-decimal currencies). Floats from providers are read through their decimal text. */
export function toMinor(v: unknown, decimals = 2): bigint | null {
  if (v === null || v === undefined || v === '') return null;
  const s = typeof v === 'number' ? v.toFixed(decimals) : String(v).trim();
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(s);
  if (!m) return null;
  const frac = (m[2] ?? '').padEnd(decimals, '0');
  if (frac.length > decimals && /[^0]/.test(frac.slice(decimals))) return null;
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(frac.slice(0, decimals) || '0');
}

export function fromMinor(n: bigint, decimals = 2): string {
  const s = n.toString().padStart(decimals + 1, '0');
  return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/** `fetch` with the adapters' timeout; an unreachable provider is a retryable ProviderError. */
export async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new ProviderError(`${what}: the provider could not be reached (${(e as Error).name})`, true);
  }
}

/**
 * The REST adapters' shared shape: their config and request timeout, enabled only when every
 * named key is set, and JSON calls to `<apiBase><path>` with their own auth headers.
 */
export abstract class HttpProvider<C extends { apiBase: string }> {
  readonly enabled: boolean;

  constructor(
    protected readonly cfg: C,
    protected readonly timeoutMs: number,
    required: (keyof C)[],
  ) {
    this.enabled = required.every((k) => !!cfg[k]);
  }

  /** `body`: an object to serialise, or an already serialised string. */
  protected callApi(method: string, path: string, what: string, headers: Record<string, string>, body?: unknown): Promise<any> {
    return callJson(`${this.cfg.apiBase}${path}`, {
      method,
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
      timeoutMs: this.timeoutMs,
      what,
    });
  }
}

/**
 * `fetch` with a timeout, JSON in and out. Network failures and timeouts are `unavailable`
 * (503); an HTTP error or an unreadable answer is a bad gateway (502).
 */
export async function callJson(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number; what: string },
): Promise<any> {
  const res = await fetchWithTimeout(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body }, init.timeoutMs, init.what);
  const text = await res.text().catch(() => '');
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) throw new ProviderError(`${init.what}: the provider answered ${res.status}`, res.status === 503 || res.status === 429);
  if (body === null || typeof body !== 'object') throw new ProviderError(`${init.what}: the provider's answer is not JSON`);
  return body;
}

export const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 255 ? v : typeof v === 'number' ? String(v) : null);
