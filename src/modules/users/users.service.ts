import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import type { Role } from '../../core/auth/roles';
import { UserEntity } from './entities/user.entity';
import { conflict, notFound } from '../../core/http/domain-error';

export interface PublicUser {
  id: string;
  username: string;
  email: string;
  roles: Role[];
  createdAt: string;
}

export function toPublicUser(u: UserEntity): PublicUser {
  return { id: u.id, username: u.username, email: u.email, roles: u.roles, createdAt: u.createdAt.toISOString() };
}

@Injectable()
export class UsersService {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOne({ where: { id } });
  }

  /** Who has this username (any case), as others may see them: id and username only. */
  async lookupByUsername(username: string): Promise<{ id: string; username: string }> {
    const rows: { id: string; username: string }[] = await this.users.query(`SELECT id, username FROM users WHERE lower(username) = lower($1)`, [username]);
    if (!rows.length) throw notFound(`No user named ${username}`);
    return rows[0];
  }

  async getById(id: string): Promise<UserEntity> {
    const u = await this.findById(id);
    if (!u) throw notFound('User not found');
    return u;
  }

  findByIds(ids: string[]): Promise<UserEntity[]> {
    return ids.length ? this.users.find({ where: { id: In(ids) } }) : Promise.resolve([]);
  }

  /** With the password hash, for sign-in only. */
  findByEmailWithSecret(email: string): Promise<UserEntity | null> {
    return this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: email.toLowerCase() })
      .getOne();
  }

  async create(input: { username: string; email: string; passwordHash: string; roles: Role[] }): Promise<UserEntity> {
    const taken = await this.users
      .createQueryBuilder('u')
      .where('u.email = :email OR lower(u.username) = lower(:username)', { email: input.email.toLowerCase(), username: input.username })
      .getOne();
    if (taken) {
      throw conflict(taken.email === input.email.toLowerCase() ? 'email is already registered' : 'username is already taken');
    }
    try {
      return await this.users.save(
        this.users.create({ ...input, email: input.email.toLowerCase(), lastSeenAt: null }),
      );
    } catch (e) {
      // A concurrent registration of the same name won the race: the unique index says so.
      if ((e as { code?: string }).code === '23505') throw conflict('email or username is already registered');
      throw e;
    }
  }

  /** New roles and a raised token version in one UPDATE: tokens minted before it are refused. */
  async setRoles(id: string, roles: Role[]): Promise<UserEntity> {
    const res = await this.users
      .createQueryBuilder()
      .update()
      .set({ roles: [...new Set(roles)], tokenVersion: () => 'token_version + 1' })
      .where('id = :id', { id })
      .execute();
    if (!res.affected) throw notFound('User not found');
    return this.getById(id);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.users.count({ where: { id } })) > 0;
  }

  /** Whether a username is taken, ignoring case (as the unique index on lower(username) does). */
  async usernameTaken(name: string): Promise<boolean> {
    return (await this.users.query(`SELECT 1 FROM users WHERE lower(username) = lower($1)`, [name])).length > 0;
  }
}
