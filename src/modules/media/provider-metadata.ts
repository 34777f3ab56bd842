import type { MediaConfig } from '../../core/config/config';
import { unavailable, unprocessable } from '../../core/http/domain-error';
import { providerJson } from './provider-http';
import { HostedProvider, parseIsoDuration } from './source.rules';

/** What a hosted provider says about a video; a field it does not know is null. */
export interface ProviderMetadata {
  title: string | null;
  description: string | null;
  durationMs: number | null;
  thumbnailUrl: string | null;
}

/** The variables a provider needs before its API can be read; empty when it is configured. */
export function missingKeys(provider: HostedProvider, m: MediaConfig): string[] {
  switch (provider) {
    case 'youtube':
      return m.youtube.apiKey ? [] : ['YOUTUBE_API_KEY'];
    case 'vimeo':
      return m.vimeo.accessToken ? [] : ['VIMEO_ACCESS_TOKEN'];
    case 'cloudflare_stream':
      return [!m.cloudflare.accountId && 'CLOUDFLARE_ACCOUNT_ID', !m.cloudflare.apiToken && 'CLOUDFLARE_API_TOKEN'].filter(Boolean) as string[];
  }
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
const base = (u: string) => u.replace(/\/+$/, '');

/** Reads a video's metadata from its provider's API (keys must be configured: see missingKeys). */
export function fetchMetadata(provider: HostedProvider, id: string, m: MediaConfig): Promise<ProviderMetadata> {
  switch (provider) {
    case 'youtube':
      return youtube(id, m);
    case 'vimeo':
      return vimeo(id, m);
    case 'cloudflare_stream':
      return cloudflare(id, m);
  }
}

/** YouTube Data API v3 `videos.list` (part=snippet,contentDetails); an unknown id is an empty list. */
async function youtube(id: string, m: MediaConfig): Promise<ProviderMetadata> {
  const q = new URLSearchParams({ part: 'snippet,contentDetails', id, key: m.youtube.apiKey!, maxResults: '1' });
  const body = await providerJson<{ items?: any[] }>('YouTube', `${base(m.youtube.apiBase)}/videos?${q}`, { timeoutMs: m.requestTimeoutMs });
  const item = body.items?.[0];
  if (!item) throw notFoundAt('YouTube', id);
  const thumbs = item.snippet?.thumbnails ?? {};
  const thumb = ['maxres', 'standard', 'high', 'medium', 'default'].map((k) => str(thumbs[k]?.url)).find(Boolean) ?? null;
  const duration = typeof item.contentDetails?.duration === 'string' ? parseIsoDuration(item.contentDetails.duration) : null;
  return { title: str(item.snippet?.title), description: str(item.snippet?.description), durationMs: duration || null, thumbnailUrl: thumb };
}

/** Vimeo API 3.4 `GET /videos/{id}` with a bearer token; duration is whole seconds. */
async function vimeo(id: string, m: MediaConfig): Promise<ProviderMetadata> {
  const q = new URLSearchParams({ fields: 'name,description,duration,pictures.sizes,pictures.base_link' });
  const body = await providerJson<any>('Vimeo', `${base(m.vimeo.apiBase)}/videos/${id}?${q}`, {
    headers: { authorization: `bearer ${m.vimeo.accessToken}`, accept: 'application/vnd.vimeo.*+json;version=3.4' },
    timeoutMs: m.requestTimeoutMs,
  });
  const sizes: any[] = Array.isArray(body?.pictures?.sizes) ? body.pictures.sizes : [];
  const largest = sizes.filter((s) => str(s?.link)).sort((a, b) => Number(b.width ?? 0) - Number(a.width ?? 0))[0];
  const duration = Number(body?.duration);
  return {
    title: str(body?.name),
    description: str(body?.description),
    durationMs: Number.isFinite(duration) && duration > 0 ? Math.round(duration * 1000) : null,
    thumbnailUrl: str(largest?.link) ?? str(body?.pictures?.base_link),
  };
}

/** Cloudflare Stream `GET /accounts/{account}/stream/{uid}`; duration is -1 while it is processed. */
async function cloudflare(id: string, m: MediaConfig): Promise<ProviderMetadata> {
  const cf = m.cloudflare;
  const body = await providerJson<{ success?: boolean; result?: any }>('Cloudflare Stream', `${base(cf.apiBase)}/accounts/${encodeURIComponent(cf.accountId!)}/stream/${id}`, {
    headers: { authorization: `Bearer ${cf.apiToken}` },
    timeoutMs: m.requestTimeoutMs,
  });
  const r = body.result;
  if (!r) throw notFoundAt('Cloudflare Stream', id);
  const duration = Number(r.duration);
  return {
    title: str(r.meta?.name),
    description: null,
    durationMs: Number.isFinite(duration) && duration > 0 ? Math.round(duration * 1000) : null,
    thumbnailUrl: str(r.thumbnail),
  };
}

function notFoundAt(provider: string, id: string) {
  return unprocessable(`${provider} has no video with id ${id}`, { provider });
}

/** Cloudflare Stream's direct creator upload: a one-time upload URL for a new video uid. */
export async function cloudflareDirectUpload(
  m: MediaConfig,
  opts: { creatorId: string; name: string | null; expiresAt: Date; maxDurationSeconds: number; signed: boolean },
): Promise<{ uid: string; uploadURL: string }> {
  const cf = m.cloudflare;
  const body = await providerJson<{ result?: { uid?: string; uploadURL?: string } }>(
    'Cloudflare Stream',
    `${base(cf.apiBase)}/accounts/${encodeURIComponent(cf.accountId!)}/stream/direct_upload`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${cf.apiToken}` },
      body: {
        maxDurationSeconds: opts.maxDurationSeconds,
        expiry: opts.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        creator: opts.creatorId,
        requireSignedURLs: opts.signed,
        ...(opts.name ? { meta: { name: opts.name } } : {}),
      },
      timeoutMs: m.requestTimeoutMs,
    },
  );
  const uid = body.result?.uid;
  const uploadURL = body.result?.uploadURL;
  if (!uid || !/^[0-9a-f]{32}$/.test(uid) || !uploadURL) {
    throw unavailable('Cloudflare Stream answered a direct upload without a uid and uploadURL; try again later');
  }
  return { uid, uploadURL };
}
