import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createSecretKey, KeyObject } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { DataSource } from 'typeorm';
import { SessionEvent, SessionEvents } from './session-events';
import { AuthCache } from './auth-cache';
import { APP_CONFIG, AppConfig } from '../config/config';
import { RedisService } from '../redis/redis.service';
import { AccessTokenPayload, AuthUser } from './auth-user';
import { DomainError } from '../http/domain-error';
import type { Role } from './roles';

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

/** Raises a cached token version, never lowers it (a late writer cannot undo a newer change). */
const RAISE_VERSION = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
local v = tonumber(ARGV[1])
if v > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return v end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return cur`;

export type TokenStatus = 'active' | 'expired' | 'revoked' | 'stale' | 'gone';
export const TOKEN_STATUS_MESSAGES: Record<Exclude<TokenStatus, 'active'>, string> = {
  expired: 'Access token expired',
  revoked: 'Session has been signed out',
  stale: 'Your roles changed; refresh your token',
  gone: 'Account no longer exists',
};

/** How long a user's token version stays cached in Redis (reloaded from Postgres after). */
const VERSION_CACHE_SECONDS = 86_400;

/**
 * Signs and verifies access tokens for every transport (REST, Socket.IO handshake,
 * graphql-ws connection and each of its operations), so all accept and refuse exactly the same
 * tokens. Beyond the signature: a signed-out session is refused, and so is a token minted before
 * its user's roles changed. That check is exact: each user has a token version (Postgres
 * `users.token_version`, cached in Redis) that a role change raises and every token carries
 * (`tv`), so a sign-in straight after a role change gets a token that works at once.
 */
@Injectable()
export class TokenService {
  /** Local answers to the per-request checks, invalidated through SessionEvents (see AuthCache). */
  private readonly cache: AuthCache;

  constructor(
    private readonly jwt: JwtService,
    private readonly redis: RedisService,
    private readonly events: SessionEvents,
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.cache = new AuthCache(config.authCacheTtlMs, () => events.listening);
    events.on((e) => this.cache.apply(e));
    events.onReset(() => this.cache.clear());
  }

  signAccess(userId: string, roles: Role[], sessionId: string, tokenVersion: number): { token: string; expiresIn: number } {
    const token = this.jwt.sign(
      { roles, sid: sessionId, tv: tokenVersion, typ: 'access' },
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

  /** Session not signed out, roles unchanged since the token was minted, not expired. */
  async assertActive(payload: AccessTokenPayload): Promise<AuthUser> {
    const status = await this.status(payload);
    if (status !== 'active') throw new DomainError('UNAUTHORIZED', TOKEN_STATUS_MESSAGES[status]);
    return { id: payload.sub, roles: payload.roles, sessionId: payload.sid };
  }

  /**
   * `fresh`: ask Redis even when this process has a cached answer. Live connections re-check that
   * way (their per-operation check is the safety net for an announcement this instance missed);
   * requests use the local cache (AUTH_CACHE_TTL_MS), kept current by the announcements.
   */
  async status(payload: AccessTokenPayload, opts: { fresh?: boolean } = {}): Promise<TokenStatus> {
    if (typeof payload.exp === 'number' && payload.exp * 1000 <= Date.now()) return 'expired';
    const tv = payload.tv ?? 0;
    if (!opts.fresh) {
      const hit = this.cache.get(payload.sid, payload.sub);
      if (hit) {
        if (hit.revoked) return 'revoked';
        if (tv > hit.version) this.cache.sawVersion(payload.sub, tv);
        return tv < hit.version ? 'stale' : 'active';
      }
    }
    const mark = this.cache.mark();
    const [revoked, cached] = await this.redis.client.mget(this.revokedKey(payload.sid), this.versionKey(payload.sub));
    const current = revoked ? null : cached === null ? await this.loadVersion(payload.sub) : Number(cached);
    if (revoked) {
      this.cache.store(mark, payload.sid, true, payload.sub, cached === null ? null : Number(cached));
      return 'revoked';
    }
    if (current === null) return 'gone';
    // A valid token's version is one the user had: the current one is at least that.
    this.cache.store(mark, payload.sid, false, payload.sub, Math.max(current, tv));
    return tv < current ? 'stale' : 'active';
  }

  /**
   * May a live connection (a socket, a graphql-ws connection) authenticated with `claims`, and
   * now holding `roles`, go on? A role change whose announcement has not reached this instance
   * yet is settled from Postgres as the announcement would be: a connection that only gained
   * roles takes them (with the new version), one that lost any is refused.
   */
  async recheckLive(
    claims: AccessTokenPayload,
    roles: Role[],
  ): Promise<{ ok: true; roles: Role[]; claims: AccessTokenPayload } | { ok: false; reason: string }> {
    const status = await this.status(claims, { fresh: true });
    if (status === 'active') return { ok: true, roles, claims };
    if (status === 'stale') {
      const now = await this.currentRoles(claims.sub);
      if (now && roles.every((r) => now.roles.includes(r))) {
        return { ok: true, roles: now.roles, claims: { ...claims, roles: now.roles, tv: now.tokenVersion } };
      }
    }
    return { ok: false, reason: TOKEN_STATUS_MESSAGES[status] };
  }

  /** The user's roles and token version now (Postgres), or null when the account is gone. */
  async currentRoles(userId: string): Promise<{ roles: Role[]; tokenVersion: number } | null> {
    const rows: { roles: Role[]; token_version: number }[] = await this.ds.query('SELECT roles, token_version FROM users WHERE id = $1', [userId]);
    return rows.length ? { roles: rows[0].roles, tokenVersion: Number(rows[0].token_version) } : null;
  }

  async verify(token: string | undefined | null): Promise<AuthUser> {
    return (await this.verifyFull(token)).user;
  }

  /** Like verify, with the claims (long-lived connections re-check them and close at `exp`). */
  async verifyFull(token: string | undefined | null): Promise<{ user: AuthUser; payload: AccessTokenPayload }> {
    if (!token) throw new DomainError('UNAUTHORIZED', 'Missing access token');
    const payload = this.verifySignature(token);
    return { user: await this.assertActive(payload), payload };
  }

  /** Access tokens of a revoked session stop working at once, and its connections close everywhere. */
  async revokeSessions(sessionIds: string[], reason = 'Signed out'): Promise<void> {
    if (!sessionIds.length) return;
    const multi = this.redis.client.multi();
    for (const sid of sessionIds) multi.set(this.revokedKey(sid), '1', 'EX', this.config.jwt.accessTtlSeconds + 60);
    await multi.exec();
    await this.announce({ type: 'sessions-revoked', sessionIds, reason });
  }

  /**
   * After a role change committed with its new token version: older tokens are refused at once,
   * and on every instance the user's sockets and graphql-ws connections that lost a role close
   * (those that only gained one take the new roles in place).
   */
  async markRolesChanged(userId: string, roles: Role[], tokenVersion: number): Promise<void> {
    await this.cacheVersion(userId, tokenVersion);
    await this.announce({ type: 'roles-changed', userId, roles, tokenVersion, reason: 'Your roles changed; refresh your token' });
  }

  /** This instance's cache learns it before anyone else can ask; every other instance hears it on the channel. */
  private async announce(e: SessionEvent): Promise<void> {
    this.cache.apply(e);
    await this.events.publish(e);
  }

  /** Primes the cache at sign-in (the version was just read with the user). */
  async cacheVersion(userId: string, tokenVersion: number): Promise<void> {
    await this.redis.client.eval(RAISE_VERSION, 1, this.versionKey(userId), String(tokenVersion), String(VERSION_CACHE_SECONDS));
  }

  private async loadVersion(userId: string): Promise<number | null> {
    const rows: { token_version: number }[] = await this.ds.query('SELECT token_version FROM users WHERE id = $1', [userId]);
    if (!rows.length) return null;
    const v = Number(rows[0].token_version);
    await this.cacheVersion(userId, v);
    return v;
  }

  private revokedKey(sid: string) {
    return this.redis.key('auth', 'revoked-session', sid);
  }

  private versionKey(userId: string) {
    return this.redis.key('auth', 'token-version', userId);
  }

  static bearer(header: string | string[] | undefined | null): string | null {
    const h = Array.isArray(header) ? header[0] : header;
    if (!h) return null;
    const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(h);
    return m ? m[1] : null;
  }
}
