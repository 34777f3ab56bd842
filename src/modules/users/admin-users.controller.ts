import { Body, Controller, Get, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { TokenService } from '../../core/auth/token.service';
import { DomainError } from '../../core/http/domain-error';
import { UpdateRolesDto } from './dto/admin-user.dto';
import { UsersService, toPublicUser } from './users.service';
import { Announcer } from '../../core/realtime/announce';
import { UserUpdated } from './users.events';

@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
    private readonly announcer: Announcer,
  ) {}

  @Get(':userId')
  async get(@Param('userId', new ParseUUIDPipe()) userId: string) {
    return toPublicUser(await this.users.getById(userId));
  }

  @Patch(':userId')
  async setRoles(
    @CurrentUser() admin: AuthUser,
    @Param('userId', new ParseUUIDPipe()) userId: string,
    @Body() dto: UpdateRolesDto,
  ) {
    const roles = [...new Set<UpdateRolesDto['roles'][number]>(['user', ...dto.roles])];
    if (userId === admin.id && !roles.includes('admin')) {
      throw new DomainError('CONFLICT', 'You cannot remove your own admin role');
    }
    const user = await this.users.setRoles(userId, roles);
    // Tokens carrying the old roles stop working at once; the user's connections that lost a
    // role close everywhere (the others take the new roles); a refresh or sign-in gives a
    // token with the new roles.
    await this.tokens.markRolesChanged(userId, user.roles, user.tokenVersion);
    const view = toPublicUser(user);
    await this.announcer.announce(UserUpdated, view, { user: userId });
    return view;
  }
}
