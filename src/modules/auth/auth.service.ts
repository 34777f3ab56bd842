import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DataSource, IsNull, Repository } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { TokenService } from '../../core/auth/token.service';
import { DomainError } from '../../core/http/domain-error';
import { UsersService, toPublicUser, PublicUser } from '../users/users.service';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { PasswordService } from './password.service';
import { LoginThrottleService } from './login-throttle.service';
import { RegisterDto } from './dto/auth.dto';
import { UserEntity } from '../users/entities/user.entity';

export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

export interface AuthTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
  user: PublicUser;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottleService,
    @InjectRepository(RefreshTokenEntity) private readonly refreshRepo: Repository<RefreshTokenEntity>,
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Seeds the admin account from ADMIN_EMAIL / ADMIN_PASSWORD when it is absent. */
  async onApplicationBootstrap() {
    const { email, password } = this.config.admin;
    if (!email || !password) return;
    const existing = await this.users.findByEmailWithSecret(email);
    if (existing) {
      if (!existing.roles.includes('admin')) {
        this.logger.warn(`ADMIN_EMAIL ${email} belongs to an existing non-admin account; it was left unchanged`);
      }
      return;
    }
    const username = email.split('@')[0].replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 32).padEnd(3, '_') || 'admin';
    try {
      await this.users.create({
        username: (await this.usernameFree(username)) ? username : `admin_${randomBytes(3).toString('hex')}`,
        email,
        passwordHash: await this.passwords.hash(password),
        roles: ['user', 'admin'],
      });
      this.logger.log(`Admin account ${email} created`);
    } catch (e) {
      // Another instance created it at the same moment.
      if (!(e instanceof DomainError && e.code === 'CONFLICT')) throw e;
    }
  }

  private async usernameFree(name: string) {
    return !(await this.users.usernameTaken(name));
  }

  async register(dto: RegisterDto, client: ClientInfo): Promise<AuthTokens> {
    await this.throttle.consumeRegister(client.ip);
    const role = dto.role ?? 'user';
    const roles = role === 'creator' ? (['user', 'creator'] as const) : (['user'] as const);
    const user = await this.users.create({
      username: dto.username,
      email: dto.email,
      passwordHash: await this.passwords.hash(dto.password),
      roles: [...roles],
    });
    return this.issue(user, randomUUID(), client);
  }

  async login(emailRaw: string, password: string, client: ClientInfo): Promise<AuthTokens> {
    const email = emailRaw.trim().toLowerCase();
    // The attempt is paid for before the password is checked, atomically, and refunded on success.
    await this.throttle.consumeLogin(email, client.ip);
    const user = await this.users.findByEmailWithSecret(email);
    const ok = user ? await this.passwords.verify(user.passwordHash, password) : (await this.passwords.verifyDummy(password), false);
    if (!user || !ok) throw new DomainError('UNAUTHORIZED', 'Invalid email or password');
    await this.throttle.refundLogin(email, client.ip);
    return this.issue(user, randomUUID(), client);
  }

  /**
   * Rotation: the presented token is used up atomically (only one concurrent refresh wins);
   * a token that was already used or revoked revokes its whole family.
   */
  async refresh(presented: string, client: ClientInfo): Promise<AuthTokens> {
    const parsed = this.parseRefresh(presented);
    if (!parsed) throw new DomainError('UNAUTHORIZED', 'Invalid refresh token');
    const row = await this.refreshRepo.findOne({ where: { id: parsed.id } });
    if (!row || !this.hashMatches(row.tokenHash, parsed.secret)) {
      throw new DomainError('UNAUTHORIZED', 'Invalid refresh token');
    }
    if (row.expiresAt.getTime() <= Date.now()) throw new DomainError('UNAUTHORIZED', 'Refresh token expired');
    const used = await this.refreshRepo
      .createQueryBuilder()
      .update()
      .set({ usedAt: () => 'now()' })
      .where('id = :id AND used_at IS NULL AND revoked_at IS NULL', { id: row.id })
      .execute();
    if (!used.affected) {
      await this.revokeFamily(row.familyId);
      this.logger.warn({ userId: row.userId, familyId: row.familyId }, 'Refresh token reuse detected; session revoked');
      throw new DomainError('UNAUTHORIZED', 'Refresh token was already used; the session has been revoked');
    }
    const user = await this.users.findById(row.userId);
    if (!user) throw new DomainError('UNAUTHORIZED', 'Account no longer exists');
    return this.issue(user, row.familyId, client);
  }

  /** Signs out one session (the refresh token's, or the access token's), or every session. */
  async logout(userId: string, currentSessionId: string, refreshToken?: string, everywhere = false): Promise<void> {
    if (everywhere) {
      // Through a CTE: TypeORM answers a bare UPDATE ... RETURNING with [rows, count], not rows.
      const families: { family_id: string }[] = await this.ds.query(
        `WITH revoked AS (UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING family_id)
         SELECT DISTINCT family_id FROM revoked`,
        [userId],
      );
      await this.tokens.revokeSessions([...new Set([currentSessionId, ...families.map((f) => f.family_id)])]);
      return;
    }
    let family = currentSessionId;
    if (refreshToken) {
      const parsed = this.parseRefresh(refreshToken);
      const row = parsed ? await this.refreshRepo.findOne({ where: { id: parsed.id } }) : null;
      if (row && row.userId === userId && this.hashMatches(row.tokenHash, parsed!.secret)) family = row.familyId;
    }
    await this.revokeFamily(family);
    if (family !== currentSessionId) await this.tokens.revokeSessions([currentSessionId]);
  }

  async me(userId: string): Promise<PublicUser> {
    const u = await this.users.findById(userId);
    if (!u) throw new DomainError('UNAUTHORIZED', 'Account no longer exists');
    return toPublicUser(u);
  }

  async purgeExpiredRefreshTokens(): Promise<number> {
    const res = await this.ds.query(
      `DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day' OR (revoked_at IS NOT NULL AND revoked_at < now() - interval '7 days')`,
    );
    return Array.isArray(res) && typeof res[1] === 'number' ? res[1] : 0;
  }

  private async revokeFamily(familyId: string) {
    await this.refreshRepo.update({ familyId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    await this.tokens.revokeSessions([familyId]);
  }

  private async issue(user: UserEntity, familyId: string, client: ClientInfo): Promise<AuthTokens> {
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.refreshRepo.insert({
      id,
      userId: user.id,
      familyId,
      tokenHash: sha256(secret),
      expiresAt: new Date(Date.now() + this.config.jwt.refreshTtlSeconds * 1000),
      usedAt: null,
      revokedAt: null,
      userAgent: client.userAgent?.slice(0, 255) ?? null,
      ip: client.ip.slice(0, 64),
    });
    await this.tokens.cacheVersion(user.id, user.tokenVersion);
    const access = this.tokens.signAccess(user.id, user.roles, familyId, user.tokenVersion);
    return {
      accessToken: access.token,
      refreshToken: `${id}.${secret}`,
      expiresIn: access.expiresIn,
      tokenType: 'Bearer',
      user: toPublicUser(user),
    };
  }

  private parseRefresh(token: string): { id: string; secret: string } | null {
    const m = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,100})$/.exec(token);
    return m ? { id: m[1], secret: m[2] } : null;
  }

  private hashMatches(storedHex: string, secret: string): boolean {
    const a = Buffer.from(storedHex, 'hex');
    const b = Buffer.from(sha256(secret), 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
