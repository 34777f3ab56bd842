import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { APP_CONFIG, AppConfig, MediaConfig } from '../../core/config/config';
import { unavailable } from '../../core/http/domain-error';

export interface HeadResult {
  sizeBytes: number;
  contentType: string | null;
}

/**
 * The video bucket: SigV4 presigned PUTs (content type and length signed, so S3 refuses any
 * other) and GETs, and HeadObject to see what was uploaded. Works against AWS S3 or any
 * S3-compatible store (`S3_ENDPOINT`, path-style), e.g. MinIO or s3rver.
 */
@Injectable()
export class S3Storage implements OnModuleDestroy {
  private readonly cfg: NonNullable<MediaConfig['s3']> | null;
  private readonly client: S3Client | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.cfg = config.media.s3;
    this.client = this.cfg
      ? new S3Client({
          region: this.cfg.region,
          ...(this.cfg.endpoint ? { endpoint: this.cfg.endpoint } : {}),
          forcePathStyle: this.cfg.forcePathStyle,
          ...(this.cfg.accessKeyId && this.cfg.secretAccessKey
            ? { credentials: { accessKeyId: this.cfg.accessKeyId, secretAccessKey: this.cfg.secretAccessKey } }
            : {}),
          // Presigned URLs must not carry SDK checksum parameters a browser PUT cannot satisfy.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          maxAttempts: 2,
        })
      : null;
  }

  get enabled(): boolean {
    return !!this.client;
  }

  private s3(): { client: S3Client; bucket: string } {
    if (!this.client || !this.cfg) throw unavailable('Video uploads are disabled: S3_BUCKET is not configured');
    return { client: this.client, bucket: this.cfg.bucket };
  }

  /** A presigned PUT for exactly this content type and size; the headers the uploader must send. */
  async presignPut(key: string, contentType: string, sizeBytes: number, ttlSeconds: number) {
    const { client, bucket } = this.s3();
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentLength: sizeBytes }), {
      expiresIn: ttlSeconds,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return { url, headers: { 'Content-Type': contentType, 'Content-Length': String(sizeBytes) } };
  }

  presignGet(key: string, ttlSeconds: number): Promise<string> {
    const { client, bucket } = this.s3();
    return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: ttlSeconds });
  }

  /** What the bucket holds under `key`; null when nothing was uploaded there. */
  async head(key: string): Promise<HeadResult | null> {
    const { client, bucket } = this.s3();
    try {
      const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { sizeBytes: Number(h.ContentLength ?? 0), contentType: h.ContentType ?? null };
    } catch (e) {
      const status = (e as S3ServiceException)?.$metadata?.httpStatusCode;
      if (status === 404 || (e as Error)?.name === 'NotFound' || (e as Error)?.name === 'NoSuchKey') return null;
      throw unavailable('The video store did not answer; try again later');
    }
  }

  onModuleDestroy() {
    this.client?.destroy();
  }
}
