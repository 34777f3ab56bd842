import { Inject, Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';

/** `Algorithm.Argon2id` (a const enum, which isolatedModules cannot inline). */
const ARGON2ID = 2;
import { APP_CONFIG, AppConfig } from '../../core/config/config';

/** argon2id (OWASP's first choice), computed off the event loop by the native binding. */
@Injectable()
export class PasswordService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  hash(password: string): Promise<string> {
    return hash(password, {
      algorithm: ARGON2ID,
      memoryCost: this.config.passwordHash.memoryCost,
      timeCost: this.config.passwordHash.timeCost,
      parallelism: 1,
    });
  }

  async verify(hashed: string, password: string): Promise<boolean> {
    try {
      return await verify(hashed, password);
    } catch {
      return false;
    }
  }

  /** A hash to verify against when the account does not exist, so timing does not reveal it. */
  private dummy?: Promise<string>;
  async verifyDummy(password: string): Promise<void> {
    this.dummy ??= this.hash('not-a-real-password-' + Math.random());
    await this.verify(await this.dummy, password);
  }
}
