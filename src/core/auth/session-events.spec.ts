import { onRolesChanged } from './session-events';

describe('onRolesChanged (what a live connection does when its user’s roles change)', () => {
  const event = (roles: ('user' | 'creator' | 'admin')[], tokenVersion: number) =>
    ({ type: 'roles-changed', userId: 'u', roles, tokenVersion, reason: 'r' }) as const;

  it('closes a connection that lost any role', () => {
    expect(onRolesChanged({ roles: ['user', 'admin'], tokenVersion: 0 }, event(['user'], 1))).toBe('close');
    expect(onRolesChanged({ roles: ['user', 'creator'], tokenVersion: 2 }, event(['user', 'admin'], 3))).toBe('close');
  });

  it('lets a connection that only gained roles take them in place', () => {
    expect(onRolesChanged({ roles: ['user'], tokenVersion: 0 }, event(['user', 'creator'], 1))).toBe('refresh');
    expect(onRolesChanged({ roles: ['user'], tokenVersion: 0 }, event(['user'], 1))).toBe('refresh');
  });

  it('ignores an announcement older than what the connection already holds (out of order)', () => {
    expect(onRolesChanged({ roles: ['user', 'admin'], tokenVersion: 5 }, event(['user'], 4))).toBe('ignore');
    expect(onRolesChanged({ roles: ['user', 'admin'], tokenVersion: 5 }, event(['user'], 5))).toBe('ignore');
  });
});
