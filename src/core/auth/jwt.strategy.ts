import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, AppConfig } from '../config/config';
import { AccessTokenPayload, AuthUser } from './auth-user';
import { JWT_ALGORITHM, TokenService, jwtKey } from './token.service';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tokens: TokenService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: jwtKey(config.jwt.secret) as unknown as string,
      algorithms: [JWT_ALGORITHM],
      issuer: config.jwt.issuer,
      ignoreExpiration: false,
    });
  }

  async validate(payload: AccessTokenPayload): Promise<AuthUser> {
    if (payload.typ !== 'access') return Promise.reject(new Error('not an access token'));
    return this.tokens.assertActive(payload);
  }
}
