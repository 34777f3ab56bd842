import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { badRequest, rateLimited, unavailable } from '../../core/http/domain-error';
import type { CreateUploadDto } from './dto/media.dto';
import { cloudflareDirectUpload, missingKeys } from './provider-metadata';
import { S3Storage } from './s3.storage';
import { uploadKey, validateUpload } from './source.rules';
import { UploadsRepository } from './uploads.repository';

/** Cloudflare Stream's longest direct upload (6 h). */
const CLOUDFLARE_MAX_DURATION_SECONDS = 21_600;
/** Uploads one creator may be handed per hour (each is a row and a signed URL). */
const UPLOADS_PER_HOUR = 120;

export interface UploadTicket {
  uploadId: string;
  provider: 's3' | 'cloudflare_stream';
  key: string;
  uploadUrl: string;
  method: 'PUT' | 'POST';
  headers: Record<string, string>;
  expiresAt: string;
  maxSizeBytes: number;
}

/**
 * Direct creator uploads: a presigned S3 PUT under a key the server chooses, or a Cloudflare
 * Stream one-time upload URL. Each is recorded so a video is only published from an object
 * its creator was given.
 */
@Injectable()
export class UploadsService {
  constructor(
    private readonly repo: UploadsRepository,
    private readonly storage: S3Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(creatorId: string, dto: CreateUploadDto): Promise<UploadTicket> {
    const m = this.config.media;
    const provider = dto.provider ?? 's3';
    const { ok, problems } = validateUpload(dto, m.maxUploadBytes);
    if (!ok) throw badRequest(problems);
    if (provider === 's3' && !this.storage.enabled) throw unavailable('Uploads to object storage are disabled: S3_BUCKET is not configured');
    const missing = provider === 'cloudflare_stream' ? missingKeys('cloudflare_stream', m) : [];
    if (missing.length) throw unavailable(`Cloudflare Stream uploads are disabled: ${missing.join(' and ')} not configured`);

    const hourAgo = new Date(Date.now() - 3_600_000);
    if ((await this.repo.countSince(creatorId, hourAgo)) >= UPLOADS_PER_HOUR) {
      throw rateLimited(60, `At most ${UPLOADS_PER_HOUR} uploads an hour; try again later`);
    }

    const id = randomUUID();
    const expiresAt = new Date(Date.now() + m.uploadUrlTtlSeconds * 1000);
    if (provider === 's3') {
      const key = uploadKey(creatorId, id, ok.ext);
      const signed = await this.storage.presignPut(key, ok.contentType, ok.sizeBytes, m.uploadUrlTtlSeconds);
      await this.repo.insert({ id, creatorId, provider, ref: key, filename: ok.filename, contentType: ok.contentType, sizeBytes: ok.sizeBytes, expiresAt });
      return { uploadId: id, provider, key, uploadUrl: signed.url, method: 'PUT', headers: signed.headers, expiresAt: expiresAt.toISOString(), maxSizeBytes: ok.sizeBytes };
    }

    // Cloudflare wants the expiry at least 2 minutes ahead.
    const cfExpiresAt = new Date(Math.max(expiresAt.getTime(), Date.now() + 150_000));
    const cf = await cloudflareDirectUpload(m, {
      creatorId,
      name: ok.filename,
      expiresAt: cfExpiresAt,
      maxDurationSeconds: CLOUDFLARE_MAX_DURATION_SECONDS,
      signed: !!(m.cloudflare.streamKeyId && m.cloudflare.streamSigningKey),
    });
    await this.repo.insert({ id, creatorId, provider, ref: cf.uid, filename: ok.filename, contentType: ok.contentType, sizeBytes: ok.sizeBytes, expiresAt: cfExpiresAt });
    // A basic (multipart form, field "file") POST, as Cloudflare's direct creator upload takes it.
    return { uploadId: id, provider, key: cf.uid, uploadUrl: cf.uploadURL, method: 'POST', headers: {}, expiresAt: cfExpiresAt.toISOString(), maxSizeBytes: ok.sizeBytes };
  }
}
