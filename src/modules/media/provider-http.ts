import { unavailable, unprocessable } from '../../core/http/domain-error';

/** Largest JSON answer read from a provider (a video's metadata is a few KiB). */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * One JSON call to a video provider's API. A provider that cannot be reached, times out, is
 * rate-limiting or answers 5xx gives 503 (try again later); one that refuses (4xx: unknown
 * video, bad key, not allowed) gives 422 naming the provider and its status.
 */
export async function providerJson<T>(
  provider: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs: number },
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(init.timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    const timedOut = (e as Error)?.name === 'TimeoutError' || (e as Error)?.name === 'AbortError';
    throw unavailable(`${provider} did not answer${timedOut ? ` within ${init.timeoutMs} ms` : ''}; try again later`, { provider });
  }
  const text = await readCapped(res);
  if (res.status === 429 || res.status >= 500) {
    throw unavailable(`${provider} is unavailable (HTTP ${res.status}); try again later`, { provider, status: res.status });
  }
  if (res.status >= 400) {
    throw unprocessable(`${provider} refused the request (HTTP ${res.status})${providerMessage(text)}`, { provider, status: res.status });
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw unavailable(`${provider} answered something that is not JSON; try again later`, { provider });
  }
}

async function readCapped(res: Response): Promise<string> {
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > MAX_BODY_BYTES) {
    await res.body?.cancel();
    return '';
  }
  const buf = Buffer.from(await res.arrayBuffer());
  return buf.subarray(0, MAX_BODY_BYTES).toString('utf8');
}

/** A short, safe excerpt of the provider's own error message, if it gave one. */
function providerMessage(text: string): string {
  try {
    const j = JSON.parse(text);
    const m = j?.error?.message ?? j?.errors?.[0]?.message ?? j?.developer_message ?? j?.error;
    return typeof m === 'string' && m ? `: ${m.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
