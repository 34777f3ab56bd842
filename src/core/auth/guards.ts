import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '../http/domain-error';
import { IS_PUBLIC, ROLES_KEY, userFromContext } from './decorators';
import type { Role } from './roles';
import { TokenService } from './token.service';

/**
 * Global guard: every route needs a valid access token unless marked @Public().
 * Sockets are authenticated at the handshake (realtime/socket-auth), so ws is passed through.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {
    super();
  }

  override getRequest(ctx: ExecutionContext) {
    if (ctx.getType<string>() === 'graphql') return GqlExecutionContext.create(ctx).getContext().req;
    return ctx.switchToHttp().getRequest();
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const type = ctx.getType<string>();
    if (type === 'ws') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]);
    if (type === 'graphql') {
      const gqlCtx = GqlExecutionContext.create(ctx).getContext();
      // Subscriptions were authenticated when the socket connected.
      if (gqlCtx.user) return true;
      const req = gqlCtx.req;
      const token = TokenService.bearer(req?.headers?.authorization);
      if (!token) {
        if (isPublic) return true;
        throw new DomainError('UNAUTHORIZED', 'Missing access token');
      }
      req.user = await this.tokens.verify(token);
      return true;
    }
    if (isPublic) {
      // Optional auth on public routes: attach the user when a valid token is sent.
      const req = ctx.switchToHttp().getRequest();
      const token = TokenService.bearer(req.headers.authorization);
      if (token) req.user = await this.tokens.verify(token).catch(() => undefined);
      return true;
    }
    return (await super.canActivate(ctx)) as boolean;
  }

  override handleRequest<T>(err: unknown, user: T, info: unknown): T {
    if (err instanceof DomainError) throw err;
    if (err || !user) {
      const name = (info as Error | undefined)?.name;
      const msg =
        name === 'TokenExpiredError'
          ? 'Access token expired'
          : info instanceof Error && /No auth token/i.test(info.message)
            ? 'Missing access token'
            : 'Invalid access token';
      throw new DomainError('UNAUTHORIZED', msg);
    }
    return user;
  }
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!required || required.length === 0) return true;
    const user = userFromContext(ctx);
    if (!user) throw new DomainError('UNAUTHORIZED', 'Authentication required');
    if (!required.some((r) => user.roles.includes(r))) {
      throw new DomainError('FORBIDDEN', `This action requires one of the roles: ${required.join(', ')}`);
    }
    return true;
  }
}
