import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import type { Tx } from '../../core/database/transaction';
import { badRequest, conflict, notFound, unprocessable } from '../../core/http/domain-error';
import { RedisService } from '../../core/redis/redis.service';
import { fetchMetadata, missingKeys, ProviderMetadata } from './provider-metadata';
import { S3Storage } from './s3.storage';
import { HostedProvider, isHosted, SourceInput, sourceRef, validateSource, VideoSource } from './source.rules';
import { UploadsRepository } from './uploads.repository';

/** What a creator sent about a new video's media (the rest of the video is not ours). */
export interface MediaInput {
  source?: SourceInput | null;
  url?: string | null;
  title?: string | null;
  durationMs?: number | null;
  thumbnailUrl?: string | null;
  description?: string | null;
}

/** A video's media, ready to insert: every field the video needs is known. */
export interface ResolvedMedia {
  source: VideoSource;
  ref: string;
  title: string;
  durationMs: number;
  thumbnailUrl: string | null;
  description: string | null;
  /** The upload this video is published from (attach it in the insert's transaction). */
  uploadId: string | null;
}

const PROVIDER_NAMES: Record<HostedProvider, string> = { youtube: 'YouTube', vimeo: 'Vimeo', cloudflare_stream: 'Cloudflare Stream' };

/**
 * Sources of videos: validation, the upload a video is published from, and title, duration and
 * thumbnail read from hosted providers (cached in Redis) when the creator leaves them out.
 * Everything is settled before the video's transaction: a provider that is down or refuses
 * stops the request with 503/422 and no row is written.
 */
@Injectable()
export class MediaService {
  constructor(
    private readonly uploads: UploadsRepository,
    private readonly storage: S3Storage,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async resolve(creatorId: string, input: MediaInput): Promise<ResolvedMedia> {
    const { source, problems } = validateSource(input.source, input.url);
    if (!source) throw badRequest(problems);
    let title = input.title?.trim() || null;
    let durationMs = input.durationMs ?? null;
    let thumbnailUrl = input.thumbnailUrl ?? null;
    let description = input.description?.trim() || null;

    if (!isHosted(source.provider)) {
      const missing = [!title && 'title', durationMs === null && 'durationSeconds'].filter(Boolean) as string[];
      if (missing.length) throw badRequest(missing.map((f) => `${f} is required for ${source.provider} sources`));
    }
    let uploadId: string | null = null;
    if (source.provider === 's3') uploadId = await this.checkS3Upload(creatorId, source.key);
    if (source.provider === 'cloudflare_stream') uploadId = await this.checkStreamUpload(creatorId, source.id);

    if (isHosted(source.provider) && (!title || durationMs === null || !thumbnailUrl)) {
      const p = source.provider;
      const keys = missingKeys(p, this.config.media);
      const needed = [!title && 'title', durationMs === null && 'durationSeconds'].filter(Boolean) as string[];
      if (keys.length) {
        // Without keys the thumbnail may stay empty; title and duration may not.
        if (needed.length) throw unprocessable(`${needed.join(' and ')} ${needed.length > 1 ? 'are' : 'is'} missing and cannot be read from ${PROVIDER_NAMES[p]}: ${keys.join(' and ')} not configured`, { missing: needed, provider: p });
      } else {
        const meta = await this.metadata(p, (source as { id: string }).id);
        title ??= meta.title;
        durationMs ??= meta.durationMs;
        thumbnailUrl ??= meta.thumbnailUrl;
        description ??= meta.description;
        const still = [!title && 'title', durationMs === null && 'durationSeconds'].filter(Boolean) as string[];
        if (still.length) throw unprocessable(`${PROVIDER_NAMES[p]} gives no ${still.join(' or ')} for this video (still processing?); send ${still.join(' and ')}`, { missing: still, provider: p });
      }
    }
    return { source, ref: sourceRef(source), title: title!.slice(0, 200), durationMs: durationMs!, thumbnailUrl, description: description?.slice(0, 5000) ?? null, uploadId };
  }

  /** In the video's transaction: the upload becomes this video's, once (409 if published already). */
  async attachUpload(tx: Tx, uploadId: string, videoId: string): Promise<void> {
    if (!(await this.uploads.attach(tx, uploadId, videoId))) throw conflict('This upload is already published as another video');
  }

  /** Metadata from the provider's API, cached in Redis (a hit never calls the provider). */
  async metadata(provider: HostedProvider, id: string): Promise<ProviderMetadata> {
    const key = this.redis.key('media', 'meta', provider, id);
    const hit = await this.redis.client.get(key).catch(() => null);
    if (hit) return JSON.parse(hit) as ProviderMetadata;
    const meta = await fetchMetadata(provider, id, this.config.media);
    await this.redis.client.set(key, JSON.stringify(meta), 'EX', this.config.media.metadataCacheSeconds).catch(() => undefined);
    return meta;
  }

  /**
   * An s3 source must be a key handed to this creator; someone else's key is "not found" (a
   * stranger never learns it exists). The object must be there, of the size and type signed.
   */
  private async checkS3Upload(creatorId: string, key: string): Promise<string> {
    const up = await this.uploads.byRef('s3', key);
    if (!up || up.creator_id !== creatorId) throw notFound('No upload of yours has this key (source.key)');
    if (up.video_id) throw conflict('This upload is already published as another video');
    const head = await this.storage.head(key);
    if (!head) throw unprocessable('Nothing has been uploaded under this key yet: PUT the file to the uploadUrl first', { field: 'source.key' });
    const expected = up.size_bytes === null ? null : Number(up.size_bytes);
    if (expected !== null && head.sizeBytes !== expected) {
      throw unprocessable(`The uploaded object is ${head.sizeBytes} bytes; this upload was for ${expected} bytes`, { field: 'source.key' });
    }
    if (up.content_type && head.contentType && head.contentType.split(';')[0].trim().toLowerCase() !== up.content_type) {
      throw unprocessable(`The uploaded object is ${head.contentType}; this upload was for ${up.content_type}`, { field: 'source.key' });
    }
    return up.id;
  }

  /** A Stream uid uploaded through us belongs to its creator; other uids in the account are free to use. */
  private async checkStreamUpload(creatorId: string, uid: string): Promise<string | null> {
    const up = await this.uploads.byRef('cloudflare_stream', uid);
    if (!up) return null;
    if (up.creator_id !== creatorId) throw notFound('No upload of yours has this Cloudflare Stream id (source.id)');
    if (up.video_id) throw conflict('This upload is already published as another video');
    return up.id;
  }
}
