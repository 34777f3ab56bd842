import { Controller, Get, Param } from '@nestjs/common';
import { badRequest } from '../../core/http/domain-error';
import { UsersService } from './users.service';
import { isUsername, USERNAME_MAX, USERNAME_MIN } from './username';

/**
 * Finding a person by the name they show (to send money, tip, invite): any signed-in user may
 * resolve a username to its id — only the id and username, nothing private. The global per-user
 * rate limit bounds enumeration.
 */
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('by-username/:username')
  byUsername(@Param('username') username: string) {
    const name = username.replace(/^@/, '');
    if (!isUsername(name)) throw badRequest(`username must be ${USERNAME_MIN}-${USERNAME_MAX} letters, digits, _ . or -`, { field: 'username' });
    return this.users.lookupByUsername(name);
  }
}
