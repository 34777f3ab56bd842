import { createPrivateKey, KeyObject } from 'node:crypto';
import { getSignedUrl as cloudfrontSignedUrl } from '@aws-sdk/cloudfront-signer';
import { JwtService } from '@nestjs/jwt';

/**
 * Playback URL signers that work locally, without a call to the provider per view:
 * CloudFront canned-policy URLs (`@aws-sdk/cloudfront-signer`) and Cloudflare Stream signed
 * tokens (an RS256 JWT with the account's signing key, made with `@nestjs/jwt`).
 */

/**
 * A PEM private key from the environment: real newlines, `\n` escapes (one-line .env files) or,
 * as Cloudflare's `POST /stream/keys` hands it out, the whole PEM base64-encoded.
 */
export function readPemPrivateKey(raw: string, name: string): KeyObject {
  let text = raw.trim().replace(/\\n/g, '\n');
  if (!text.includes('-----BEGIN')) {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) text = decoded;
  }
  try {
    return createPrivateKey(text);
  } catch {
    throw new Error(`${name} is not a PEM private key (PEM text, PEM with \\n escapes, or base64 of a PEM)`);
  }
}

export interface CloudFrontSigning {
  domain: string;
  keyPairId: string;
  privateKey: KeyObject;
}

/** `https://<domain>/<key>` signed with a canned policy that ends at `expiresAt`. */
export function cloudfrontUrl(cf: CloudFrontSigning, key: string, expiresAt: Date): string {
  const base = /^https?:\/\//.test(cf.domain) ? cf.domain.replace(/\/+$/, '') : `https://${cf.domain.replace(/\/+$/, '')}`;
  const url = `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return cloudfrontSignedUrl({
    url,
    keyPairId: cf.keyPairId,
    privateKey: cf.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    dateLessThan: expiresAt.toISOString(),
  });
}

export interface StreamSigning {
  keyId: string;
  privateKey: KeyObject;
}

const jwt = new JwtService();

/**
 * Cloudflare Stream's self-signed token: RS256, header `kid` = the key id, claims `sub` (the
 * video uid), `kid` and `exp`; used in place of the uid in Stream URLs.
 */
export function streamToken(s: StreamSigning, uid: string, expiresAt: Date): string {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return jwt.sign(
    { sub: uid, kid: s.keyId, exp },
    { algorithm: 'RS256', keyid: s.keyId, privateKey: s.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
  );
}
