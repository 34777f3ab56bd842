import { Controller, Get, Param } from '@nestjs/common';
import { badRequest } from '../../core/http/domain-error';
import { UsersService } from './users.service';

/** The same rule as registration (auth/dto): 3–32 of letters, digits, `_`, `.` and `-`. */
const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

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
    if (!USERNAME.test(name)) throw badRequest('username must be 3-32 letters, digits, _ . or -', { field: 'username' });
    return this.users.lookupByUsername(name);
  }
}
