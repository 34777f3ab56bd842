import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Role } from './roles';
import type { AuthUser } from './auth-user';

export const IS_PUBLIC = 'softchat:isPublic';
/** Opens a route to anonymous callers (register, login, health, public content). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const ROLES_KEY = 'softchat:roles';
/** Restricts a route to any of the given roles. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

export function userFromContext(ctx: ExecutionContext): AuthUser | undefined {
  const type = ctx.getType<string>();
  if (type === 'graphql') return GqlExecutionContext.create(ctx).getContext().req?.user ?? GqlExecutionContext.create(ctx).getContext().user;
  if (type === 'ws') return ctx.switchToWs().getClient().data?.user;
  return ctx.switchToHttp().getRequest().user;
}

/** The authenticated caller on REST, GraphQL and Socket.IO handlers alike. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser | undefined =>
  userFromContext(ctx),
);
