import { CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../http/domain-error';
import { AuthUser, isAdmin } from './auth-user';
import { userFromContext } from './decorators';

/** Throws 403 unless the caller is the owner or an admin. */
export function assertSelfOrAdmin(user: AuthUser | undefined, ownerId: string): void {
  if (!user) throw new DomainError('UNAUTHORIZED', 'Authentication required');
  if (user.id !== ownerId && !isAdmin(user)) {
    throw new DomainError('FORBIDDEN', 'You may only access your own resources');
  }
}

const OWNER_PARAM = 'softchat:ownerParam';

@Injectable()
export class OwnerOrAdminGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(ctx: ExecutionContext): boolean {
    const param = this.reflector.get<string>(OWNER_PARAM, ctx.getHandler()) ?? 'userId';
    const req = ctx.switchToHttp().getRequest();
    assertSelfOrAdmin(userFromContext(ctx), String(req.params[param] ?? ''));
    return true;
  }
}

/** For `:userId` routes: only that user, or an admin, may call them (403 otherwise). */
export const OwnerOrAdmin = (param = 'userId') =>
  applyDecorators(SetMetadata(OWNER_PARAM, param), UseGuards(OwnerOrAdminGuard));
