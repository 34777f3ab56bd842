import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/config';

const base = () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), 'softchat-media-config-')) });

describe('media configuration', () => {
  it('is disabled, with production API bases, when nothing is set', () => {
    const m = loadConfig(base()).media;
    expect(m.s3).toBeNull();
    expect(m.cloudfront).toBeNull();
    expect(m).toMatchObject({ maxUploadBytes: 5 * 1024 ** 3, uploadUrlTtlSeconds: 900, playbackUrlTtlSeconds: 3600 });
    expect(m.youtube).toEqual({ apiKey: null, apiBase: 'https://www.googleapis.com/youtube/v3' });
    expect(m.vimeo).toEqual({ accessToken: null, apiBase: 'https://api.vimeo.com' });
    expect(m.cloudflare.apiBase).toBe('https://api.cloudflare.com/client/v4');
  });

  it('uses path-style addressing for S3-compatible endpoints', () => {
    const m = loadConfig({ ...base(), S3_BUCKET: 'v', S3_ENDPOINT: 'http://127.0.0.1:9000' }).media;
    expect(m.s3).toEqual({ bucket: 'v', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, accessKeyId: null, secretAccessKey: null });
    expect(loadConfig({ ...base(), S3_BUCKET: 'v', S3_REGION: 'eu-west-1' }).media.s3).toMatchObject({ endpoint: null, forcePathStyle: false, region: 'eu-west-1' });
  });

  it('refuses upload URLs valid over an hour and half-set key groups, naming the variables', () => {
    expect(() => loadConfig({ ...base(), VIDEO_UPLOAD_URL_TTL_SECONDS: '3601' })).toThrow(/VIDEO_UPLOAD_URL_TTL_SECONDS must be between 1 and 3600/);
    expect(() => loadConfig({ ...base(), CLOUDFRONT_DOMAIN: 'd1.cloudfront.net' })).toThrow(/CLOUDFRONT_DOMAIN, CLOUDFRONT_KEY_PAIR_ID and CLOUDFRONT_PRIVATE_KEY must be set together/);
    expect(() => loadConfig({ ...base(), AWS_ACCESS_KEY_ID: 'AKIA' })).toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together/);
    expect(() => loadConfig({ ...base(), CLOUDFLARE_STREAM_KEY_ID: 'k' })).toThrow(/CLOUDFLARE_STREAM_KEY_ID and CLOUDFLARE_STREAM_SIGNING_KEY/);
    expect(() => loadConfig({ ...base(), YOUTUBE_API_BASE: 'ftp://x' })).toThrow(/YOUTUBE_API_BASE must use http: or https:/);
  });
});
