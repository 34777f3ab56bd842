import { createHash, createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** s3rver ships no type declarations; this is the part the tests use. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (opts: Record<string, unknown>) => S3rverInstance;

/** s3rver's fixed account. */
export const S3RVER_KEY = { id: 'S3RVER', secret: 'S3RVER' };

/** A real S3-compatible server on a loopback port, storing in a temp dir, with one bucket. */
export async function startS3(bucket: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'softchat-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const info = await server.run();
  return {
    endpoint: `http://127.0.0.1:${info.port}`,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface StandInRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: any;
}

type Handler = (req: StandInRequest, res: ServerResponse) => void;

/**
 * A local stand-in for provider APIs: routes by "METHOD /path" prefix, records every request.
 * A handler that never answers simulates a provider that hangs.
 */
export async function startStandIn(routes: Record<string, Handler>) {
  const requests: StandInRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const text = Buffer.concat(chunks).toString('utf8');
    const r: StandInRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: text ? JSON.parse(text) : undefined };
    requests.push(r);
    const route = Object.keys(routes)
      .filter((k) => `${r.method} ${r.path}`.startsWith(k))
      .sort((a, b) => b.length - a.length)[0];
    if (!route) return json(res, 404, { error: 'no route' });
    hanging.add(res);
    res.once('finish', () => hanging.delete(res));
    routes[route](r, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    hits: (prefix: string) => requests.filter((r) => `${r.method} ${r.path}`.startsWith(prefix)).length,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * AWS Signature Version 4 for a presigned URL, spelled out (s3rver does not check V4
 * signatures): true when the URL's signature is valid for a request with exactly these
 * headers, i.e. when real S3 would accept it.
 */
export function sigV4Accepts(url: string, method: string, headers: Record<string, string>, secret: string): boolean {
  const u = new URL(url);
  const q = u.searchParams;
  const canonicalQuery = [...q.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const signed = q.get('X-Amz-SignedHeaders')!.split(';');
  const all: Record<string, string> = { host: u.host };
  for (const [k, v] of Object.entries(headers)) all[k.toLowerCase()] = v;
  const canonicalHeaders = signed.map((h) => `${h}:${(all[h] ?? '').trim()}\n`).join('');
  const canonical = [method, u.pathname, canonicalQuery, canonicalHeaders, signed.join(';'), q.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD'].join('\n');
  const [, day, region, service] = q.get('X-Amz-Credential')!.split('/');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', q.get('X-Amz-Date'), scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex') === q.get('X-Amz-Signature');
}

/** YouTube ids the stand-in knows: one video, one that fails (500), one that hangs, one unknown. */
export const YOUTUBE_IDS = { known: 'dQw4w9WgXcQ', down: 'DOWNdownDOW', hang: 'HANGhangHAN', unknown: 'NOPEnopeNOP' };

/**
 * Stand-ins for the YouTube Data API (key yt-key), Vimeo (token vimeo-token) and Cloudflare Stream
 * (account acct-test, token cf-token), answering as their documentation shows.
 */
export function providerRoutes(YT: typeof YOUTUBE_IDS, streamUids: Set<string>): Record<string, Handler> {
  return {
    'GET /youtube/v3/videos': (r, res) => {
      if (r.query.get('key') !== 'yt-key' || r.query.get('part') !== 'snippet,contentDetails') return json(res, 403, { error: { message: 'API key not valid' } });
      const id = r.query.get('id');
      if (id === YT.down) return json(res, 500, { error: { message: 'backend error' } });
      if (id === YT.hang) return; // never answers
      if (id !== YT.known) return json(res, 200, { items: [] });
      json(res, 200, {
        items: [
          {
            id,
            snippet: { title: 'Never Gonna Give You Up', description: 'The official video', thumbnails: { default: { url: 'https://i.ytimg.com/vi/x/default.jpg' }, maxres: { url: 'https://i.ytimg.com/vi/x/maxresdefault.jpg' } } },
            contentDetails: { duration: 'PT3M33S' },
          },
        ],
      });
    },
    'GET /vimeo/videos/': (r, res) => {
      if (r.headers.authorization !== 'bearer vimeo-token') return json(res, 401, { error: 'unauthorized' });
      if (r.path !== '/vimeo/videos/76979871') return json(res, 404, { error: "The requested video couldn't be found." });
      json(res, 200, { name: 'The New Vimeo Player', description: null, duration: 62, pictures: { sizes: [{ width: 640, link: 'https://i.vimeocdn.com/v/1_640.jpg' }, { width: 1280, link: 'https://i.vimeocdn.com/v/1_1280.jpg' }] } });
    },
    'GET /cf/client/v4/accounts/acct-test/stream/': (r, res) => {
      const uid = r.path.split('/').pop()!;
      if (r.headers.authorization !== 'Bearer cf-token') return json(res, 403, { success: false, errors: [{ message: 'Authentication error' }] });
      if (!streamUids.has(uid)) return json(res, 404, { success: false, errors: [{ message: 'Video not found' }] });
      json(res, 200, { success: true, result: { uid, duration: 42.5, thumbnail: `https://videodelivery.net/${uid}/thumbnails/thumbnail.jpg`, meta: { name: 'From Stream' }, readyToStream: true } });
    },
    'POST /cf/client/v4/accounts/acct-test/stream/direct_upload': (r, res) => {
      if (r.headers.authorization !== 'Bearer cf-token') return json(res, 403, { success: false });
      const uid = randomBytes(16).toString('hex');
      streamUids.add(uid);
      json(res, 200, { success: true, result: { uid, uploadURL: `https://upload.videodelivery.net/${uid}` } });
    },
  };
}
