/**
 * Pure rules for where a video plays from: per-provider validation of a source, the canonical
 * URL shown for it, upload content types and keys, and ISO 8601 durations. No I/O, no Nest.
 */

export const SOURCE_PROVIDERS = ['url', 's3', 'cloudflare_stream', 'vimeo', 'youtube'] as const;
export type SourceProvider = (typeof SOURCE_PROVIDERS)[number];
/** Providers whose title, duration and thumbnail can be read from their API. */
export const HOSTED_PROVIDERS = ['cloudflare_stream', 'vimeo', 'youtube'] as const;
export type HostedProvider = (typeof HOSTED_PROVIDERS)[number];

export type VideoSource =
  | { provider: 'url'; url: string }
  | { provider: 's3'; key: string }
  | { provider: 'cloudflare_stream'; id: string }
  | { provider: 'vimeo'; id: string }
  | { provider: 'youtube'; id: string };

/** What a client sends (`source`), before validation. */
export interface SourceInput {
  provider?: unknown;
  url?: unknown;
  key?: unknown;
  id?: unknown;
}

export const MAX_URL_LENGTH = 2048;
export const MAX_KEY_LENGTH = 1024;
const YOUTUBE_ID = /^[A-Za-z0-9_-]{11}$/;
const VIMEO_ID = /^[1-9][0-9]{0,19}$/;
const CLOUDFLARE_UID = /^[0-9a-f]{32}$/;
/** Keys the server hands out: uploads/<creator uuid>/<uuid>.<ext>. Anything else is not ours. */
const S3_KEY = /^uploads\/[0-9a-f-]{36}\/[0-9a-f-]{36}\.[a-z0-9]{2,5}$/;

export const isHosted = (p: SourceProvider): p is HostedProvider => (HOSTED_PROVIDERS as readonly string[]).includes(p);

/**
 * Validates a source per provider. `topUrl` is the legacy top-level `url` field: alone it means
 * `{provider:"url",url}`; together with a source it must agree with it. Problems name the field.
 */
export function validateSource(input: SourceInput | undefined | null, topUrl?: string | null): { source?: VideoSource; problems: string[] } {
  const problems: string[] = [];
  const fromTop = !input;
  if (!input) {
    if (topUrl === undefined || topUrl === null) return { problems: ['url or source is required'] };
    input = { provider: 'url', url: topUrl };
  } else if (topUrl !== undefined && topUrl !== null && !(input.provider === 'url' && (input.url === undefined || input.url === topUrl))) {
    return { problems: ['give either url or source, not both (or the same url in both)'] };
  } else if (input.provider === 'url' && input.url === undefined) {
    input = { ...input, url: topUrl };
  }
  const provider = input.provider;
  if (typeof provider !== 'string' || !(SOURCE_PROVIDERS as readonly string[]).includes(provider)) {
    return { problems: [`source.provider must be one of ${SOURCE_PROVIDERS.join(', ')}`] };
  }
  const p = provider as SourceProvider;
  const field = p === 'url' ? 'url' : p === 's3' ? 'key' : 'id';
  for (const other of ['url', 'key', 'id'] as const) {
    if (other !== field && input[other] !== undefined && input[other] !== null) problems.push(`source.${other} is not used by provider ${p} (use source.${field})`);
  }
  const value = input[field];
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`source.${field} is required for provider ${p}`);
    return { problems };
  }
  const v = value.trim();
  switch (p) {
    case 'url':
      if (!isHttpsUrl(v)) problems.push(`${fromTop ? 'url' : 'source.url'} must be an https URL (at most ${MAX_URL_LENGTH} characters)`);
      break;
    case 's3':
      if (v.length > MAX_KEY_LENGTH || !S3_KEY.test(v)) problems.push('source.key must be a key returned by POST /api/videos/uploads');
      break;
    case 'youtube':
      if (!YOUTUBE_ID.test(v)) problems.push('source.id must be a YouTube video id (11 characters of A-Z, a-z, 0-9, _ and -)');
      break;
    case 'vimeo':
      if (!VIMEO_ID.test(v)) problems.push('source.id must be a Vimeo video id (digits)');
      break;
    case 'cloudflare_stream':
      if (!CLOUDFLARE_UID.test(v)) problems.push('source.id must be a Cloudflare Stream video uid (32 lowercase hex characters)');
      break;
  }
  if (problems.length) return { problems };
  const source = (p === 'url' ? { provider: p, url: v } : p === 's3' ? { provider: p, key: v } : { provider: p, id: v }) as VideoSource;
  return { source, problems };
}

export function isHttpsUrl(s: string): boolean {
  if (s.length > MAX_URL_LENGTH) return false;
  try {
    const u = new URL(s);
    return u.protocol === 'https:' && !!u.hostname && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** The id or key of a source, as stored in `videos.source_ref`. */
export function sourceRef(s: VideoSource): string {
  return s.provider === 'url' ? s.url : s.provider === 's3' ? s.key : s.id;
}

export function sourceFromRow(provider: string, ref: string | null, url: string): VideoSource {
  switch (provider) {
    case 's3':
      return { provider, key: ref! };
    case 'cloudflare_stream':
    case 'vimeo':
    case 'youtube':
      return { provider, id: ref! };
    default:
      return { provider: 'url', url: ref ?? url };
  }
}

/**
 * The `url` a video shows: the link itself, the provider's public page, or for objects in our
 * bucket the playback route that hands out a short-lived signed URL.
 */
export function canonicalUrl(s: VideoSource, videoId: string): string {
  switch (s.provider) {
    case 'url':
      return s.url;
    case 's3':
      return `/api/videos/${videoId}/playback`;
    case 'youtube':
      return `https://www.youtube.com/watch?v=${s.id}`;
    case 'vimeo':
      return `https://vimeo.com/${s.id}`;
    case 'cloudflare_stream':
      return `https://watch.cloudflarestream.com/${s.id}`;
  }
}

export type PlaybackKind = 'file' | 'hls' | 'dash' | 'embed';

/** How a player should treat a plain URL: a manifest, a provider page (iframe) or a media file. */
export function kindOfUrl(url: string): PlaybackKind {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'file';
  }
  const host = u.hostname.replace(/^(www|m|player)\./, '');
  if (['youtube.com', 'youtu.be', 'youtube-nocookie.com', 'vimeo.com'].includes(host)) return 'embed';
  if (/\.m3u8$/i.test(u.pathname)) return 'hls';
  if (/\.mpd$/i.test(u.pathname)) return 'dash';
  return 'file';
}

// ------------------------------------------------------------------ uploads

/** Video content types a creator may upload, with the extension of the stored object. */
export const VIDEO_CONTENT_TYPES: Readonly<Record<string, string>> = {
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'video/x-matroska': 'mkv',
  'video/ogg': 'ogv',
  'video/mpeg': 'mpeg',
  'video/x-msvideo': 'avi',
  'video/3gpp': '3gp',
  'video/mp2t': 'ts',
  'video/x-m4v': 'm4v',
};

export interface UploadRequest {
  filename?: unknown;
  contentType?: unknown;
  sizeBytes?: unknown;
}

/** Validates an upload request; the content type is normalised (lower case, no parameters). */
export function validateUpload(req: UploadRequest, maxBytes: number): { ok?: { filename: string | null; contentType: string; sizeBytes: number; ext: string }; problems: string[] } {
  const problems: string[] = [];
  let filename: string | null = null;
  if (req.filename !== undefined && req.filename !== null) {
    // eslint-disable-next-line no-control-regex
    if (typeof req.filename !== 'string' || req.filename.length > 255 || /[\u0000-\u001f]/.test(req.filename)) {
      problems.push('filename must be a string of at most 255 printable characters');
    } else filename = req.filename.trim() || null;
  }
  const ct = typeof req.contentType === 'string' ? req.contentType.split(';')[0].trim().toLowerCase() : '';
  const ext = VIDEO_CONTENT_TYPES[ct];
  if (!ext) problems.push(`contentType must be a video type: ${Object.keys(VIDEO_CONTENT_TYPES).join(', ')}`);
  const size = req.sizeBytes;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) problems.push('sizeBytes must be a positive whole number of bytes');
  else if (size > maxBytes) problems.push(`sizeBytes must be at most ${maxBytes} (VIDEO_MAX_UPLOAD_BYTES)`);
  if (problems.length) return { problems };
  return { ok: { filename, contentType: ct, sizeBytes: size as number, ext: ext! }, problems };
}

/** The server's key for an upload: never derived from the client's filename. */
export const uploadKey = (creatorId: string, uploadId: string, ext: string) => `uploads/${creatorId}/${uploadId}.${ext}`;

// ------------------------------------------------------------------ durations

/**
 * ISO 8601 durations as YouTube's contentDetails.duration gives them (PT1H2M3S, P1DT2H, PT15.5S)
 * to whole milliseconds; null when the text is not such a duration. Years and months have no
 * fixed length and are refused (YouTube never sends them).
 */
export function parseIsoDuration(text: string): number | null {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const [, w, d, h, min, s] = m;
  const n = (x?: string) => (x ? Number(x.replace(',', '.')) : 0);
  const ms = (((n(w) * 7 + n(d)) * 24 + n(h)) * 60 + n(min)) * 60_000 + Math.round(n(s) * 1000);
  return Number.isSafeInteger(ms) ? ms : null;
}
