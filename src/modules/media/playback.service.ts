import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { unavailable } from '../../core/http/domain-error';
import { S3Storage } from './s3.storage';
import { cloudfrontUrl, CloudFrontSigning, readPemPrivateKey, streamToken, StreamSigning } from './signers';
import { kindOfUrl, PlaybackKind, VideoSource } from './source.rules';

export interface Playback {
  videoId: string;
  url: string;
  /** When a signed URL stops working; null for URLs that do not expire. */
  expiresAt: string | null;
  kind: PlaybackKind;
  provider: VideoSource['provider'];
  signed: boolean;
  ttlSeconds: number | null;
}

/**
 * What a viewer plays: short-lived signed URLs for our own objects (CloudFront, else S3
 * presigned GETs) and for Cloudflare Stream (a locally signed token, no API call per view),
 * the provider's embed URL for Vimeo and YouTube, the link itself otherwise.
 */
@Injectable()
export class PlaybackService {
  private readonly ttl: number;
  private readonly cloudfront: CloudFrontSigning | null;
  private readonly stream: StreamSigning | null;
  private readonly deliveryBase: string;

  constructor(
    private readonly storage: S3Storage,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const m = config.media;
    this.ttl = m.playbackUrlTtlSeconds;
    this.deliveryBase = m.cloudflare.deliveryBase.replace(/\/+$/, '');
    // Keys are parsed once at boot: a bad key stops the start with the variable's name.
    this.cloudfront = m.cloudfront
      ? { domain: m.cloudfront.domain, keyPairId: m.cloudfront.keyPairId, privateKey: readPemPrivateKey(m.cloudfront.privateKey, 'CLOUDFRONT_PRIVATE_KEY') }
      : null;
    const cf = m.cloudflare;
    this.stream =
      cf.streamKeyId && cf.streamSigningKey ? { keyId: cf.streamKeyId, privateKey: readPemPrivateKey(cf.streamSigningKey, 'CLOUDFLARE_STREAM_SIGNING_KEY') } : null;
  }

  async playback(videoId: string, source: VideoSource): Promise<Playback> {
    const base = { videoId, provider: source.provider };
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + this.ttl * 1000);
    const signed = (url: string, kind: PlaybackKind): Playback => ({ ...base, url, kind, signed: true, expiresAt: expiresAt.toISOString(), ttlSeconds: this.ttl });
    const plain = (url: string, kind: PlaybackKind): Playback => ({ ...base, url, kind, signed: false, expiresAt: null, ttlSeconds: null });
    switch (source.provider) {
      case 's3': {
        const kind = kindOfUrl(`https://x/${source.key}`);
        if (this.cloudfront) return signed(cloudfrontUrl(this.cloudfront, source.key, expiresAt), kind);
        if (!this.storage.enabled) throw unavailable('This video is stored in object storage, which is not configured (S3_BUCKET)');
        return signed(await this.storage.presignGet(source.key, this.ttl), kind);
      }
      case 'cloudflare_stream':
        if (this.stream) return signed(`${this.deliveryBase}/${streamToken(this.stream, source.id, expiresAt)}/manifest/video.m3u8`, 'hls');
        return plain(`${this.deliveryBase}/${source.id}/manifest/video.m3u8`, 'hls');
      case 'vimeo':
        return plain(`https://player.vimeo.com/video/${source.id}`, 'embed');
      case 'youtube':
        return plain(`https://www.youtube.com/embed/${source.id}`, 'embed');
      case 'url':
        return plain(source.url, kindOfUrl(source.url));
    }
  }
}
