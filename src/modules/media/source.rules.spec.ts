import { canonicalUrl, kindOfUrl, parseIsoDuration, sourceFromRow, uploadKey, validateSource, validateUpload } from './source.rules';

const CREATOR = '6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const UPLOAD = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('validateSource', () => {
  it('reads a lone url as a url source, and agrees with a matching one', () => {
    expect(validateSource(undefined, 'https://cdn.example.com/a.mp4')).toEqual({ source: { provider: 'url', url: 'https://cdn.example.com/a.mp4' }, problems: [] });
    expect(validateSource({ provider: 'url' }, 'https://cdn.example.com/a.mp4').source).toEqual({ provider: 'url', url: 'https://cdn.example.com/a.mp4' });
    expect(validateSource({ provider: 'url', url: 'https://x.example/a' }, 'https://x.example/a').source).toEqual({ provider: 'url', url: 'https://x.example/a' });
  });

  it('refuses nothing, both at odds, and unknown providers', () => {
    expect(validateSource(undefined, undefined).problems).toEqual(['url or source is required']);
    expect(validateSource({ provider: 'youtube', id: 'dQw4w9WgXcQ' }, 'https://x.example/a').problems[0]).toMatch(/either url or source/);
    expect(validateSource({ provider: 'dailymotion', id: 'x' }).problems[0]).toMatch(/source.provider must be one of url, s3, cloudflare_stream, vimeo, youtube/);
  });

  it('accepts https URLs only', () => {
    expect(validateSource({ provider: 'url', url: 'https://cdn.example.com/v.m3u8' }).source).toEqual({ provider: 'url', url: 'https://cdn.example.com/v.m3u8' });
    for (const bad of ['http://cdn.example.com/a.mp4', 'javascript:alert(1)', 'https://user:pw@x.example/a', 'not a url', `https://x.example/${'a'.repeat(2048)}`]) {
      expect(validateSource({ provider: 'url', url: bad }).problems).toEqual(['source.url must be an https URL (at most 2048 characters)']);
    }
    expect(validateSource(undefined, 'http://cdn.example.com/a.mp4').problems).toEqual(['url must be an https URL (at most 2048 characters)']);
  });

  it('checks ids per provider', () => {
    expect(validateSource({ provider: 'youtube', id: 'dQw4w9WgXcQ' }).source).toEqual({ provider: 'youtube', id: 'dQw4w9WgXcQ' });
    expect(validateSource({ provider: 'youtube', id: 'a-_Z09bcdef' }).source).toBeDefined();
    for (const id of ['dQw4w9WgXc', 'dQw4w9WgXcQQ', 'dQw4w9WgXc!', '../../etc/p']) expect(validateSource({ provider: 'youtube', id }).problems[0]).toMatch(/source.id must be a YouTube video id/);
    expect(validateSource({ provider: 'vimeo', id: '76979871' }).source).toEqual({ provider: 'vimeo', id: '76979871' });
    for (const id of ['abc', '0123', '12.5', '-1']) expect(validateSource({ provider: 'vimeo', id }).problems[0]).toMatch(/Vimeo video id/);
    const uid = 'ea95132c15732412d22c1476fa83f27a';
    expect(validateSource({ provider: 'cloudflare_stream', id: uid }).source).toEqual({ provider: 'cloudflare_stream', id: uid });
    for (const id of [uid.toUpperCase(), uid.slice(1), `${uid}0`, 'g'.repeat(32)]) expect(validateSource({ provider: 'cloudflare_stream', id }).problems[0]).toMatch(/Cloudflare Stream video uid/);
  });

  it('takes s3 keys only in the shape the server hands out', () => {
    const key = uploadKey(CREATOR, UPLOAD, 'mp4');
    expect(key).toBe(`uploads/${CREATOR}/${UPLOAD}.mp4`);
    expect(validateSource({ provider: 's3', key }).source).toEqual({ provider: 's3', key });
    for (const bad of ['movie.mp4', `uploads/${CREATOR}/../../secret.mp4`, `/uploads/${CREATOR}/${UPLOAD}.mp4`, `uploads/${CREATOR}/${UPLOAD}.mp4/x`]) {
      expect(validateSource({ provider: 's3', key: bad }).problems).toEqual(['source.key must be a key returned by POST /api/videos/uploads']);
    }
  });

  it('names the missing or misplaced field', () => {
    expect(validateSource({ provider: 'vimeo' }).problems).toEqual(['source.id is required for provider vimeo']);
    expect(validateSource({ provider: 's3', id: 'x' }).problems).toEqual(['source.id is not used by provider s3 (use source.key)', 'source.key is required for provider s3']);
    expect(validateSource({ provider: 'youtube', id: 5 as unknown as string }).problems).toEqual(['source.id is required for provider youtube']);
  });
});

describe('canonical URLs and playback kinds', () => {
  it('links each provider to its public page, and s3 objects to the playback route', () => {
    const vid = '11111111-2222-4333-8444-555555555555';
    expect(canonicalUrl({ provider: 'youtube', id: 'dQw4w9WgXcQ' }, vid)).toBe('https://www.youtube.com/watch?v=dQw4w9WgXcQ');
    expect(canonicalUrl({ provider: 'vimeo', id: '76979871' }, vid)).toBe('https://vimeo.com/76979871');
    expect(canonicalUrl({ provider: 'cloudflare_stream', id: 'ab'.repeat(16) }, vid)).toBe(`https://watch.cloudflarestream.com/${'ab'.repeat(16)}`);
    expect(canonicalUrl({ provider: 's3', key: 'uploads/a/b.mp4' }, vid)).toBe(`/api/videos/${vid}/playback`);
    expect(canonicalUrl({ provider: 'url', url: 'https://x.example/a.mp4' }, vid)).toBe('https://x.example/a.mp4');
  });

  it('reads rows written before sources existed as url sources', () => {
    expect(sourceFromRow('url', null, 'https://old.example/v.mp4')).toEqual({ provider: 'url', url: 'https://old.example/v.mp4' });
    expect(sourceFromRow('s3', 'uploads/k.mp4', '/x')).toEqual({ provider: 's3', key: 'uploads/k.mp4' });
    expect(sourceFromRow('vimeo', '1', 'https://vimeo.com/1')).toEqual({ provider: 'vimeo', id: '1' });
  });

  it('tells players how to treat a URL', () => {
    expect(kindOfUrl('https://cdn.example.com/a/master.m3u8?sig=1')).toBe('hls');
    expect(kindOfUrl('https://cdn.example.com/a/manifest.MPD')).toBe('dash');
    expect(kindOfUrl('https://www.youtube.com/watch?v=dQw4w9WgXcQ')).toBe('embed');
    expect(kindOfUrl('https://player.vimeo.com/video/1')).toBe('embed');
    expect(kindOfUrl('https://cdn.example.com/a.mp4')).toBe('file');
  });
});

describe('validateUpload', () => {
  const max = 1000;
  it('accepts video types within the size bound, normalising the type', () => {
    expect(validateUpload({ filename: 'My Film.MP4', contentType: 'Video/MP4; codecs="avc1"', sizeBytes: 1000 }, max)).toEqual({
      ok: { filename: 'My Film.MP4', contentType: 'video/mp4', sizeBytes: 1000, ext: 'mp4' },
      problems: [],
    });
    expect(validateUpload({ contentType: 'video/quicktime', sizeBytes: 1 }, max).ok).toMatchObject({ ext: 'mov', filename: null });
    expect(validateUpload({ contentType: 'video/webm', sizeBytes: 5 }, max).ok?.ext).toBe('webm');
  });

  it('refuses other types, bad and oversize sizes, naming the field', () => {
    expect(validateUpload({ contentType: 'image/png', sizeBytes: 5 }, max).problems[0]).toMatch(/^contentType must be a video type: video\/mp4, video\/webm, video\/quicktime/);
    expect(validateUpload({ contentType: 'text/html', sizeBytes: 5 }, max).ok).toBeUndefined();
    expect(validateUpload({ contentType: 'video/mp4', sizeBytes: 1001 }, max).problems).toEqual(['sizeBytes must be at most 1000 (VIDEO_MAX_UPLOAD_BYTES)']);
    for (const sizeBytes of [0, -1, 1.5, '10', Number.NaN, 2 ** 60]) {
      expect(validateUpload({ contentType: 'video/mp4', sizeBytes }, 2 ** 62).problems).toEqual(['sizeBytes must be a positive whole number of bytes']);
    }
    expect(validateUpload({ filename: 'a\nb.mp4', contentType: 'video/mp4', sizeBytes: 1 }, max).problems[0]).toMatch(/^filename/);
  });
});

describe('parseIsoDuration', () => {
  it.each([
    ['PT4M13S', 253_000],
    ['PT1H', 3_600_000],
    ['PT1H2M3S', 3_723_000],
    ['PT15.5S', 15_500],
    ['PT0,25S', 250],
    ['P1DT2H', 93_600_000],
    ['P1W', 604_800_000],
    ['PT0S', 0],
    ['PT36M', 2_160_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it.each(['', 'P', 'PT', 'P1Y', 'P1M', '4M13S', 'PT4m13s', 'PT1H2', 'PTS', 'P1DT', 'PT-5S'])('refuses %p', (text) => {
    expect(parseIsoDuration(text)).toBeNull();
  });
});
