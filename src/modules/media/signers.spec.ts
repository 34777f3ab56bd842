import { createPublicKey, createVerify, generateKeyPairSync } from 'node:crypto';
import { cloudfrontUrl, readPemPrivateKey, streamToken } from './signers';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('readPemPrivateKey', () => {
  it('takes PEM text, PEM with \\n escapes, and base64 of a PEM (as Cloudflare gives it)', () => {
    for (const raw of [pem, pem.replace(/\n/g, '\\n'), Buffer.from(pem).toString('base64')]) {
      expect(createPublicKey(readPemPrivateKey(raw, 'X')).export({ type: 'spki', format: 'pem' })).toEqual(publicKey.export({ type: 'spki', format: 'pem' }));
    }
  });

  it('names the variable when the key is not one', () => {
    expect(() => readPemPrivateKey('not a key', 'CLOUDFRONT_PRIVATE_KEY')).toThrow(/CLOUDFRONT_PRIVATE_KEY is not a PEM private key/);
  });
});

describe('cloudfrontUrl', () => {
  it('signs a canned policy (RSA-SHA1) that a public key verifies', () => {
    const expiresAt = new Date('2030-01-01T00:00:00Z');
    const url = new URL(cloudfrontUrl({ domain: 'd111.cloudfront.net', keyPairId: 'K2JCJMDEHXQW5F', privateKey }, 'uploads/a b/c.mp4', expiresAt));
    expect(url.origin + url.pathname).toBe('https://d111.cloudfront.net/uploads/a%20b/c.mp4');
    expect(url.searchParams.get('Expires')).toBe(String(expiresAt.getTime() / 1000));
    expect(url.searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
    const resource = `${url.origin}${url.pathname}`;
    const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expiresAt.getTime() / 1000 } } }] });
    const sig = Buffer.from(url.searchParams.get('Signature')!.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
    expect(createVerify('RSA-SHA1').update(policy).verify(publicKey, sig)).toBe(true);
    expect(createVerify('RSA-SHA1').update(policy.replace('c.mp4', 'd.mp4')).verify(publicKey, sig)).toBe(false);
  });
});

describe('streamToken', () => {
  it('is an RS256 JWT with kid, sub and exp that the public key verifies', () => {
    const expiresAt = new Date('2030-01-01T00:00:00Z');
    const uid = 'ea95132c15732412d22c1476fa83f27a';
    const token = streamToken({ keyId: 'key-1', privateKey }, uid, expiresAt);
    const [h, p, s] = token.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'key-1' });
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toMatchObject({ sub: uid, kid: 'key-1', exp: expiresAt.getTime() / 1000 });
    expect(createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(s, 'base64url'))).toBe(true);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(createVerify('RSA-SHA256').update(`${h}.${p}`).verify(other, Buffer.from(s, 'base64url'))).toBe(false);
  });
});
