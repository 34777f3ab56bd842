import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { TokenService } from '../auth/token.service';

/**
 * Rate limits count per user for signed-in traffic and per IP for anonymous traffic, so one
 * busy user or one office behind a NAT does not lock out others. The token's signature is
 * checked here (cheap HMAC); its revocation is checked by the auth guard after.
 */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  @Inject(TokenService) private readonly tokenService: TokenService;

  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const token = TokenService.bearer(req.headers?.authorization);
    if (token) {
      try {
        return `u:${this.tokenService.verifySignature(token).sub}`;
      } catch {
        /* invalid token: count by IP; the auth guard answers 401 */
      }
    }
    return `ip:${req.ip ?? req.socket?.remoteAddress ?? 'unknown'}`;
  }

  protected override getRequestResponse(context: ExecutionContext) {
    if (context.getType<string>() === 'graphql') {
      const { GqlExecutionContext } = require('@nestjs/graphql') as typeof import('@nestjs/graphql');
      const ctx = GqlExecutionContext.create(context).getContext();
      return { req: ctx.req, res: ctx.req?.res ?? ctx.res };
    }
    return super.getRequestResponse(context);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    // Sockets have their own per-socket limiter; subscriptions have no HTTP request.
    if (context.getType<string>() === 'ws') return true;
    if (context.getType<string>() === 'graphql') {
      const { req } = this.getRequestResponse(context);
      if (!req) return true;
    }
    return super.canActivate(context);
  }

}

