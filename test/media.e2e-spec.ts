import { createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, eventually, gql, http, registerUser, TestUser } from './harness/clients';
import { YOUTUBE_IDS, providerRoutes, S3RVER_KEY, sigV4Accepts, startS3, startStandIn } from './harness/media';

/**
 * Video media end to end: direct uploads to a real S3-compatible server (s3rver), publishing
 * from an upload, signed playback (S3 presigned GET, CloudFront, Cloudflare Stream tokens)
 * verified with the public half of keys made here, and provider metadata from local stand-ins
 * of the YouTube, Vimeo and Cloudflare APIs (cache, refusals, outages, missing keys).
 */
describe('video media', () => {
  const BUCKET = 'softchat-videos';
  const MAX = 1_048_576;
  const YT = YOUTUBE_IDS;
  const CF_UID = 'ea95132c15732412d22c1476fa83f27a';
  const cfKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const streamKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const streamUids = new Set([CF_UID]);
  let s3: Awaited<ReturnType<typeof startS3>>;
  let api: Awaited<ReturnType<typeof startStandIn>>;
  let a: TestApp; // S3 presigned playback, every provider key, signed Stream
  let b: TestApp; // CloudFront playback, 1 s upload URLs, no provider keys
  let ds: DataSource;
  let creator: TestUser;
  let other: TestUser;
  let viewer: TestUser;

  beforeAll(async () => {
    s3 = await startS3(BUCKET);
    api = await startStandIn(providerRoutes(YT, streamUids));
    const common = { WATCH_HEARTBEAT_MIN_INTERVAL_MS: '100', S3_BUCKET: BUCKET, S3_ENDPOINT: s3.endpoint, S3_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: S3RVER_KEY.id, AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secret, VIDEO_MAX_UPLOAD_BYTES: String(MAX) };
    a = await startTestApp({
      env: {
        ...common,
        YOUTUBE_API_KEY: 'yt-key',
        YOUTUBE_API_BASE: `${api.url}/youtube/v3`,
        VIMEO_ACCESS_TOKEN: 'vimeo-token',
        VIMEO_API_BASE: `${api.url}/vimeo`,
        CLOUDFLARE_ACCOUNT_ID: 'acct-test',
        CLOUDFLARE_API_TOKEN: 'cf-token',
        CLOUDFLARE_API_BASE: `${api.url}/cf/client/v4`,
        CLOUDFLARE_STREAM_KEY_ID: 'stream-key-1',
        // As Cloudflare's POST /stream/keys gives it: the PEM, base64-encoded.
        CLOUDFLARE_STREAM_SIGNING_KEY: Buffer.from(streamKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).toString('base64'),
        MEDIA_REQUEST_TIMEOUT_MS: '400',
      },
    });
    b = await startTestApp({
      shareWith: a,
      env: {
        ...common,
        CLOUDFRONT_DOMAIN: 'd111111abcdef8.cloudfront.net',
        CLOUDFRONT_KEY_PAIR_ID: 'K2JCJMDEHXQW5F',
        // One-line .env style: newlines as \n.
        CLOUDFRONT_PRIVATE_KEY: cfKeys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString().replace(/\n/g, '\\n'),
        VIDEO_UPLOAD_URL_TTL_SECONDS: '1',
        PLAYBACK_URL_TTL_SECONDS: '120',
      },
    });
    ds = a.app.get(getDataSourceToken());
    [creator, other, viewer] = await Promise.all([registerUser(a, { role: 'creator' }), registerUser(a, { role: 'creator' }), registerUser(a)]);
  });

  afterAll(async () => {
    await closeClients();
    await b?.close();
    await a?.close();
    await api?.close();
    await s3?.close();
  });

  const auth = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });
  const presign = (body: Record<string, unknown>, u: TestUser = creator, t: TestApp = a) => http(t).post('/api/videos/uploads').set(auth(u)).send(body);
  const publish = (body: Record<string, unknown>, u: TestUser = creator, t: TestApp = a) => http(t).post('/api/videos').set(auth(u)).send(body);
  const playback = (id: string, t: TestApp = a, u: TestUser = viewer) => http(t).get(`/api/videos/${id}/playback`).set(auth(u));
  const put = (ticket: { uploadUrl: string }, body: Buffer, contentType = 'video/mp4') => fetch(ticket.uploadUrl, { method: 'PUT', body, headers: { 'content-type': contentType } });
  /** One published video of each source provider, for the Watch2Earn check at the end. */
  const byProvider = new Map<string, string>();
  const videoCount = async () => Number((await ds.query(`SELECT COUNT(*) AS n FROM videos`))[0].n);

  it('uploads straight to the bucket, publishes from the key and plays back through a presigned GET', async () => {
    const bytes = randomBytes(4096);
    const res = await presign({ filename: '../../etc/passwd.mp4', contentType: 'video/mp4', sizeBytes: bytes.length }).expect(201);
    const t = res.body;
    expect(t).toEqual({
      uploadId: expect.any(String),
      provider: 's3',
      key: expect.stringMatching(new RegExp(`^uploads/${creator.id}/[0-9a-f-]{36}\\.mp4$`)),
      uploadUrl: expect.stringContaining(`${s3.endpoint}/${BUCKET}/uploads/${creator.id}/`),
      method: 'PUT',
      headers: { 'Content-Type': 'video/mp4', 'Content-Length': String(bytes.length) },
      expiresAt: expect.any(String),
      maxSizeBytes: bytes.length,
    });
    expect(t.key).not.toContain('passwd');
    const url = new URL(t.uploadUrl);
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBe(900);
    expect(Date.parse(t.expiresAt) - Date.now()).toBeLessThanOrEqual(900_000);
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    // The signature covers the size and the type: S3 accepts exactly this request, nothing else.
    expect(sigV4Accepts(t.uploadUrl, 'PUT', t.headers, S3RVER_KEY.secret)).toBe(true);
    expect(sigV4Accepts(t.uploadUrl, 'PUT', { ...t.headers, 'Content-Length': String(bytes.length + 1) }, S3RVER_KEY.secret)).toBe(false);
    expect(sigV4Accepts(t.uploadUrl, 'PUT', { ...t.headers, 'Content-Type': 'text/html' }, S3RVER_KEY.secret)).toBe(false);

    const early = await publish({ title: 'Too early', durationSeconds: 10, source: { provider: 's3', key: t.key } }).expect(422);
    expect(early.body.message).toMatch(/Nothing has been uploaded under this key/);

    expect((await put(t, bytes)).status).toBe(200);
    const v = (await publish({ title: 'My upload', durationSeconds: 12.5, source: { provider: 's3', key: t.key } }).expect(201)).body;
    byProvider.set('s3', v.id);
    expect(v).toMatchObject({ creatorId: creator.id, title: 'My upload', durationSeconds: 12.5, source: { provider: 's3', key: t.key }, url: `/api/videos/${v.id}/playback` });
    expect((await http(a).get(`/api/videos/${v.id}`).expect(200)).body.source).toEqual({ provider: 's3', key: t.key });
    await publish({ title: 'Twice', durationSeconds: 12.5, source: { provider: 's3', key: t.key } }).expect(409);

    await http(a).get(`/api/videos/${v.id}/playback`).expect(401);
    const p = (await playback(v.id).expect(200)).body;
    expect(p).toMatchObject({ videoId: v.id, provider: 's3', kind: 'file', signed: true, ttlSeconds: 3600 });
    expect(Math.abs(Date.parse(p.expiresAt) - Date.now() - 3_600_000)).toBeLessThan(5_000);
    expect(new URL(p.url).searchParams.get('X-Amz-Expires')).toBe('3600');
    const got = await fetch(p.url);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);

    // Watch2Earn works the same on an uploaded video (a player retries a heartbeat answered 429).
    const s = (await http(a).post(`/api/videos/${v.id}/sessions`).set(auth(viewer)).expect(201)).body.sessionId;
    const beat = await eventually(async () => {
      const r = await http(a).post(`/api/videos/${v.id}/sessions/${s}/heartbeat`).set(auth(viewer)).send({ positionSeconds: 0, playing: true });
      return r.status === 429 ? null : r;
    });
    expect(beat!.status).toBe(200);
    expect(beat!.body).toMatchObject({ sessionId: s, videoId: v.id, status: 'active' });
  });

  it('refuses non-creators, non-video types, oversize files, and keys that are not yours', async () => {
    await http(a).post('/api/videos/uploads').send({ contentType: 'video/mp4', sizeBytes: 10 }).expect(401);
    await presign({ contentType: 'video/mp4', sizeBytes: 10 }, viewer).expect(403);
    expect((await presign({ contentType: 'image/png', sizeBytes: 10 }).expect(400)).body.message.join()).toMatch(/contentType must be a video type/);
    expect((await presign({ contentType: 'text/html', sizeBytes: 10 }).expect(400)).body.message.join()).toMatch(/contentType/);
    expect((await presign({ contentType: 'video/mp4', sizeBytes: MAX + 1 }).expect(400)).body.message.join()).toMatch(/sizeBytes must be at most 1048576/);
    expect((await presign({ contentType: 'video/mp4', sizeBytes: -5 }).expect(400)).body.message.join()).toMatch(/sizeBytes/);
    expect((await presign({ contentType: 'video/mp4' }).expect(400)).body.message.join()).toMatch(/sizeBytes/);
    await presign({ contentType: 'video/mp4', sizeBytes: 10, bucket: 'other' }).expect(400);

    const mine = (await presign({ contentType: 'video/webm', sizeBytes: 5 }).expect(201)).body;
    expect(mine.key).toMatch(/\.webm$/);
    expect((await put(mine, Buffer.from('12345'), 'video/webm')).status).toBe(200);
    // Someone else's key, and a well-formed key nobody was given: not found (nothing learned).
    await publish({ title: 'Stolen', durationSeconds: 5, source: { provider: 's3', key: mine.key } }, other).expect(404);
    await publish({ title: 'Unknown', durationSeconds: 5, source: { provider: 's3', key: `uploads/${creator.id}/00000000-0000-4000-8000-000000000000.mp4` } }).expect(404);
    expect((await publish({ title: 'Path', durationSeconds: 5, source: { provider: 's3', key: '../secret.mp4' } }).expect(400)).body.message.join()).toMatch(/source.key/);
    await publish({ title: 'No duration', source: { provider: 's3', key: mine.key } }).expect(400);
  });

  it('refuses an object of another size than the one signed', async () => {
    const t = (await presign({ contentType: 'video/mp4', sizeBytes: 10 }).expect(201)).body;
    // s3rver does not check V4 signatures (real S3 refuses this PUT, see sigV4Accepts above): we check at publish.
    expect((await put(t, Buffer.alloc(12))).status).toBe(200);
    const before = await videoCount();
    const r = await publish({ title: 'Wrong size', durationSeconds: 5, source: { provider: 's3', key: t.key } }).expect(422);
    expect(r.body.message).toMatch(/12 bytes; this upload was for 10 bytes/);
    expect(await videoCount()).toBe(before);
  });

  it('hands out upload URLs that expire, and plays s3 videos through signed CloudFront URLs', async () => {
    const t = (await presign({ contentType: 'video/mp4', sizeBytes: 3 }, creator, b).expect(201)).body;
    expect(new URL(t.uploadUrl).searchParams.get('X-Amz-Expires')).toBe('1');
    // The store itself refuses the URL once its second is over (X-Amz-Date has whole seconds).
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(t.expiresAt) - Date.now()) + 1100));
    const late = await put(t, Buffer.from('abc'));
    expect(late.status).toBe(403);
    expect(await late.text()).toMatch(/Request has expired/);

    const fresh = (await presign({ contentType: 'video/mp4', sizeBytes: 3 }).expect(201)).body;
    expect((await put(fresh, Buffer.from('abc'))).status).toBe(200);
    const v = (await publish({ title: 'Via CDN', durationSeconds: 3, source: { provider: 's3', key: fresh.key } }).expect(201)).body;
    const p = (await playback(v.id, b).expect(200)).body;
    expect(p).toMatchObject({ kind: 'file', signed: true, ttlSeconds: 120 });
    const url = new URL(p.url);
    expect(`${url.origin}${url.pathname}`).toBe(`https://d111111abcdef8.cloudfront.net/${fresh.key}`);
    const expires = Number(url.searchParams.get('Expires'));
    expect(expires).toBe(Date.parse(p.expiresAt) / 1000);
    expect(url.searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
    const policy = JSON.stringify({ Statement: [{ Resource: `${url.origin}${url.pathname}`, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] });
    const sig = Buffer.from(url.searchParams.get('Signature')!.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
    expect(createVerify('RSA-SHA1').update(policy).verify(cfKeys.publicKey, sig)).toBe(true);
  });

  it('reads YouTube metadata once (cached), and refuses unknown videos and outages without a half-made video', async () => {
    const before = api.hits('GET /youtube/v3/videos');
    const v = (await publish({ source: { provider: 'youtube', id: YT.known } }).expect(201)).body;
    expect(v).toMatchObject({
      title: 'Never Gonna Give You Up',
      description: 'The official video',
      durationSeconds: 213,
      thumbnailUrl: 'https://i.ytimg.com/vi/x/maxresdefault.jpg',
      source: { provider: 'youtube', id: YT.known },
      url: `https://www.youtube.com/watch?v=${YT.known}`,
    });
    expect(api.hits('GET /youtube/v3/videos')).toBe(before + 1);
    byProvider.set('youtube', v.id);
    const again = (await publish({ source: { provider: 'youtube', id: YT.known }, ads: [{ position: 'pre', durationSeconds: 5 }] }, other).expect(201)).body;
    expect(again).toMatchObject({ title: 'Never Gonna Give You Up', durationSeconds: 213 });
    expect(api.hits('GET /youtube/v3/videos')).toBe(before + 1);
    // What the creator gives wins over the provider's; all given: no call at all.
    expect((await publish({ source: { provider: 'youtube', id: 'abcdefghijk' }, title: 'Mine', durationSeconds: 60, thumbnailUrl: 'https://x.example/t.jpg' }).expect(201)).body.title).toBe('Mine');
    expect(api.hits('GET /youtube/v3/videos')).toBe(before + 1);

    const p = (await playback(v.id).expect(200)).body;
    expect(p).toEqual({ videoId: v.id, provider: 'youtube', kind: 'embed', url: `https://www.youtube.com/embed/${YT.known}`, signed: false, expiresAt: null, ttlSeconds: null });

    const count = await videoCount();
    expect((await publish({ source: { provider: 'youtube', id: YT.unknown } }).expect(422)).body.message).toMatch(/YouTube has no video with id NOPEnopeNOP/);
    const down = await publish({ source: { provider: 'youtube', id: YT.down } }).expect(503);
    expect(down.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/YouTube is unavailable \(HTTP 500\)/) });
    expect((await publish({ source: { provider: 'youtube', id: YT.hang } }).expect(503)).body.message).toMatch(/YouTube did not answer within 400 ms/);
    expect(await videoCount()).toBe(count);
    expect((await publish({ source: { provider: 'youtube', id: 'short' } }).expect(400)).body.message.join()).toMatch(/source.id must be a YouTube video id/);
  });

  it('reads Vimeo metadata with the access token; an unknown video is refused', async () => {
    const v = (await publish({ source: { provider: 'vimeo', id: '76979871' } }).expect(201)).body;
    byProvider.set('vimeo', v.id);
    expect(v).toMatchObject({ title: 'The New Vimeo Player', durationSeconds: 62, thumbnailUrl: 'https://i.vimeocdn.com/v/1_1280.jpg', url: 'https://vimeo.com/76979871' });
    expect(api.requests.find((r) => r.path === '/vimeo/videos/76979871')?.query.get('fields')).toMatch(/duration/);
    expect((await publish({ source: { provider: 'vimeo', id: '1' } }).expect(422)).body.message).toMatch(/Vimeo refused the request \(HTTP 404\)/);
    expect((await playback(v.id).expect(200)).body).toMatchObject({ kind: 'embed', url: 'https://player.vimeo.com/video/76979871', signed: false });
    await publish({ source: { provider: 'vimeo', id: 'abc' } }).expect(400);
  });

  it('uploads to Cloudflare Stream directly, reads its metadata and plays it with a locally signed token', async () => {
    const up = (await presign({ provider: 'cloudflare_stream', filename: 'clip.mp4', contentType: 'video/mp4', sizeBytes: 1000 }).expect(201)).body;
    expect(up).toMatchObject({ provider: 'cloudflare_stream', method: 'POST', key: expect.stringMatching(/^[0-9a-f]{32}$/), uploadUrl: `https://upload.videodelivery.net/${up.key}` });
    const sent = api.requests.filter((r) => r.path.endsWith('/direct_upload')).at(-1)!;
    expect(sent.body).toMatchObject({ maxDurationSeconds: expect.any(Number), creator: creator.id, requireSignedURLs: true, meta: { name: 'clip.mp4' }, expiry: expect.any(String) });
    await presign({ provider: 'cloudflare_stream', contentType: 'application/pdf', sizeBytes: 1000 }).expect(400);

    // Another creator may not publish it; its creator may, with metadata from Stream.
    await publish({ source: { provider: 'cloudflare_stream', id: up.key } }, other).expect(404);
    const mine = (await publish({ source: { provider: 'cloudflare_stream', id: up.key } }).expect(201)).body;
    expect(mine).toMatchObject({ title: 'From Stream', durationSeconds: 42.5, source: { provider: 'cloudflare_stream', id: up.key } });
    await publish({ source: { provider: 'cloudflare_stream', id: up.key } }).expect(409);

    const v = (await publish({ source: { provider: 'cloudflare_stream', id: CF_UID }, title: 'Titled' }).expect(201)).body;
    byProvider.set('cloudflare_stream', v.id);
    expect(v).toMatchObject({ title: 'Titled', durationSeconds: 42.5, thumbnailUrl: `https://videodelivery.net/${CF_UID}/thumbnails/thumbnail.jpg` });
    const hits = api.hits('GET /cf/');
    const p = (await playback(v.id).expect(200)).body;
    expect(api.hits('GET /cf/')).toBe(hits); // no API call per view
    expect(p).toMatchObject({ provider: 'cloudflare_stream', kind: 'hls', signed: true });
    const m = /^https:\/\/videodelivery\.net\/([^/]+)\/manifest\/video\.m3u8$/.exec(p.url)!;
    const [h, body, s] = m[1].split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toMatchObject({ alg: 'RS256', kid: 'stream-key-1' });
    expect(JSON.parse(Buffer.from(body, 'base64url').toString())).toMatchObject({ sub: CF_UID, kid: 'stream-key-1', exp: Date.parse(p.expiresAt) / 1000 });
    expect(createVerify('RSA-SHA256').update(`${h}.${body}`).verify(streamKeys.publicKey, Buffer.from(s, 'base64url'))).toBe(true);

    const g = await gql(a, 'query($id: ID!) { videoPlayback(videoId: $id) { url kind signed expiresAt } }', { id: v.id }, viewer.token);
    expect(g.body.data.videoPlayback).toMatchObject({ kind: 'hls', signed: true });
  });

  it('says which keys are missing when a provider is not configured, and serves plain URLs', async () => {
    const count = await videoCount();
    const r = await publish({ source: { provider: 'youtube', id: 'zzzzzzzzzzz' } }, creator, b).expect(422);
    expect(r.body.message).toBe('title and durationSeconds are missing and cannot be read from YouTube: YOUTUBE_API_KEY not configured');
    expect((await publish({ source: { provider: 'vimeo', id: '5' }, title: 'x' }, creator, b).expect(422)).body.message).toMatch(/durationSeconds is missing .* VIMEO_ACCESS_TOKEN/);
    expect((await publish({ source: { provider: 'cloudflare_stream', id: CF_UID } }, creator, b).expect(422)).body.message).toMatch(/CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN/);
    expect((await presign({ provider: 'cloudflare_stream', contentType: 'video/mp4', sizeBytes: 5 }, creator, b).expect(503)).body.message).toMatch(/CLOUDFLARE_ACCOUNT_ID/);
    expect(await videoCount()).toBe(count);
    // Given by the creator, nothing needs reading (the thumbnail comes from the id).
    const v = (await publish({ source: { provider: 'youtube', id: 'zzzzzzzzzzz' }, title: 'Given', durationSeconds: 30 }, creator, b).expect(201)).body;
    expect(v.thumbnailUrl).toBe('https://i.ytimg.com/vi/zzzzzzzzzzz/hqdefault.jpg');

    const plain = (await publish({ title: 'Plain', url: 'https://cdn.example.com/live/master.m3u8', durationSeconds: 60 }).expect(201)).body;
    byProvider.set('url', plain.id);
    expect(plain.source).toEqual({ provider: 'url', url: 'https://cdn.example.com/live/master.m3u8' });
    expect((await playback(plain.id).expect(200)).body).toMatchObject({ url: 'https://cdn.example.com/live/master.m3u8', kind: 'hls', signed: false, expiresAt: null });
    expect((await publish({ title: 'Insecure', url: 'http://cdn.example.com/a.mp4', durationSeconds: 5 }).expect(400)).body.message.join()).toMatch(/url must be an https URL/);
    expect((await publish({ title: 'Both', url: 'https://cdn.example.com/a.mp4', source: { provider: 'vimeo', id: '1' }, durationSeconds: 5 }).expect(400)).body.message.join()).toMatch(/either url or source/);
    await publish({ title: 'None', durationSeconds: 5 }).expect(400);
    expect((await publish({ source: { provider: 'dailymotion', id: 'x' } }).expect(400)).body.message.join()).toMatch(/^source\.provider must be one of url, s3, cloudflare_stream, vimeo, youtube/);
    expect((await publish({ source: { provider: 'vimeo', id: '1', extra: 1 } }).expect(400)).body.message.join()).toMatch(/extra/);
  });

  it('creates uploads over GraphQL too (creators only)', async () => {
    const m = 'mutation($i: CreateVideoUploadInput!) { createVideoUpload(input: $i) { uploadId provider key uploadUrl method headers { name value } expiresAt } }';
    const ok = await gql(a, m, { i: { contentType: 'video/quicktime', sizeBytes: 7 } }, creator.token);
    expect(ok.body.data.createVideoUpload).toMatchObject({ provider: 's3', method: 'PUT', key: expect.stringMatching(/\.mov$/), headers: expect.arrayContaining([{ name: 'Content-Length', value: '7' }]) });
    const denied = await gql(a, m, { i: { contentType: 'video/quicktime', sizeBytes: 7 } }, viewer.token);
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const bad = await gql(a, m, { i: { contentType: 'image/gif', sizeBytes: 7 } }, creator.token);
    expect(bad.body.errors[0].extensions).toMatchObject({ code: 'BAD_REQUEST', statusCode: 400 });
  });

  it('runs Watch2Earn sessions on videos of every source', async () => {
    expect([...byProvider.keys()].sort()).toEqual(['cloudflare_stream', 's3', 'url', 'vimeo', 'youtube']);
    for (const id of byProvider.values()) {
      const s = (await http(a).post(`/api/videos/${id}/sessions`).set(auth(viewer)).expect(201)).body.sessionId;
      expect((await http(a).get(`/api/videos/${id}/sessions/${s}`).set(auth(viewer)).expect(200)).body).toMatchObject({ sessionId: s, videoId: id, status: 'active' });
    }
  });

  it('keeps videos written before sources existed playing as url sources', async () => {
    const [row] = await ds.query(`INSERT INTO videos (creator_id, title, url, duration_ms) VALUES ($1, 'Old', 'https://cdn.example.com/old.mp4', 5000) RETURNING id`, [creator.id]);
    expect((await http(a).get(`/api/videos/${row.id}`).expect(200)).body.source).toEqual({ provider: 'url', url: 'https://cdn.example.com/old.mp4' });
    expect((await playback(row.id).expect(200)).body).toMatchObject({ url: 'https://cdn.example.com/old.mp4', kind: 'file' });
    await playback('00000000-0000-4000-8000-000000000000').expect(404);
  });
});
