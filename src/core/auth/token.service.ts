import { Inject, Injectable } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, AppConfig } from '../config/config';
import { RedisService } from '../redis/redis.service';
import { AccessTokenPayload, AuthUser } from './auth-user';
import { DomainError } from '../http/domain-error';
import type { Role } from '../../modules/users/entities/user.entity';

export const JWT_ALGORITHM = 'HS256' as const;

/**
 * The HMAC key as a KeyObject: given a string, jsonwebtoken first tries to parse it as a
 * public key on every verify (an exception per request, the main CPU cost of auth).
 */
const keys = new Map<string, KeyObject>();
export function jwtKey(secret: string): KeyObject {
  let k = keys.get(secret);
  if (!k) {
    k = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, k);
  }
  return k;
}

/**
 * Signs and verifies access tokens for every transport (REST, Socket.IO handshake,
 * graphql-ws connection), so all three accept and refuse exactly the same tokens.
 * Beyond the signature: a logged-out session or a user whose roles changed after the
 * token was issued is refused (one Redis round trip).
 */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  signAccess(userId: string, roles: Role[], sessionId: string): { token: string; expiresIn: number } {
    const token = this.jwt.sign(
      { roles, sid: sessionId, typ: 'access' },
      {
        subject: userId,
        algorithm: JWT_ALGORITHM,
        expiresIn: this.config.jwt.accessTtlSeconds,
        issuer: this.config.jwt.issuer,
        secret: jwtKey(this.config.jwt.secret) as unknown as string,
      },
    );
    return { token, expiresIn: this.config.jwt.accessTtlSeconds };
  }

  /** Verifies signature, algorithm, issuer and expiry; throws UNAUTHORIZED. */
  verifySignature(token: string): AccessTokenPayload {
    try {
      const payload = this.jwt.verify<AccessTokenPayload>(token, {
        algorithms: [JWT_ALGORITHM],
        issuer: this.config.jwt.issuer,
        secret: jwtKey(this.config.jwt.secret) as unknown as string,
      });
      if (payload.typ !== 'access' || typeof payload.sub !== 'string' || !Array.isArray(payload.roles)) {
        throw new Error('not an access token');
      }
      return payload;
    } catch (e) {
      const expired = e && (e as Error).name === 'TokenExpiredError';
      throw new DomainError('UNAUTHORIZED', expired ? 'Access token expired' : 'Invalid access token');
    }
  }

  async assertActive(payload: AccessTokenPayload): Promise<AuthUser> {
    const [revoked, rolesChangedAt] = await this.redis.client.mget(
      this.redis.key('auth', 'revoked-session', payload.sid),
      this.redis.key('auth', 'roles-changed', payload.sub),
    );
    if (revoked) throw new DomainError('UNAUTHORIZED', 'Session has been signed out');
    if (rolesChangedAt && Number(rolesChangedAt) >= payload.iat) {
      throw new DomainError('UNAUTHORIZED', 'Your roles changed; refresh your token');
    }
    return { id: payload.sub, roles: payload.roles, sessionId: payload.sid };
  }

  async verify(token: string | undefined | null): Promise<AuthUser> {
    if (!token) throw new DomainError('UNAUTHORIZED', 'Missing access token');
    return this.assertActive(this.verifySignature(token));
  }

  /** Access tokens of a revoked session stop working at once, not at expiry. */
  async revokeSessions(sessionIds: string[]): Promise<void> {
    if (!sessionIds.length) return;
    this.onRevoke?.(sessionIds);
    const multi = this.redis.client.multi();
    for (const sid of sessionIds) {
      multi.set(this.redis.key('auth', 'revoked-session', sid), '1', 'EX', this.config.jwt.accessTtlSeconds + 60);
    }
    await multi.exec();
  }

  /** Set by the realtime layer: disconnects the revoked sessions' sockets. */
  onRevoke?: (sessionIds: string[]) => void;

  async markRolesChanged(userId: string): Promise<void> {
    // iat has one-second resolution: tokens issued in this very second are refused too, and
    // the client simply refreshes.
    await this.redis.client.set(
      this.redis.key('auth', 'roles-changed', userId),
      String(Math.floor(Date.now() / 1000)),
      'EX',
      this.config.jwt.accessTtlSeconds + 60,
    );
  }

  static bearer(header: string | string[] | undefined | null): string | null {
    const h = Array.isArray(header) ? header[0] : header;
    if (!h) return null;
    const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(h);
    return m ? m[1] : null;
  }
}
