import { Injectable } from '@nestjs/common';
import type { DashboardAuthenticator } from '../../core/queue/queue-dashboard';
import type { Role } from '../../core/auth/roles';
import { UsersService } from '../users/users.service';
import { PasswordService } from './password.service';
import { LoginThrottleService } from './login-throttle.service';

/** The queue dashboard's HTTP Basic check: an email and password checked and throttled like a login. */
@Injectable()
export class PasswordDashboardAuthenticator implements DashboardAuthenticator {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly throttle: LoginThrottleService,
  ) {}

  async checkPassword(email: string, password: string, ip: string): Promise<{ roles: Role[] } | null> {
    await this.throttle.consumeLogin(email, ip);
    const user = email ? await this.users.findByEmailWithSecret(email) : null;
    // An unknown email costs the same argon2 verification as a wrong password: timing tells nothing.
    const valid = user ? await this.passwords.verify(user.passwordHash, password) : (await this.passwords.verifyDummy(password), false);
    if (!user || !valid) return null;
    await this.throttle.refundLogin(email, ip);
    return { roles: user.roles };
  }
}
