import { assertSelfOrAdmin } from './ownership';
import { DomainError } from '../http/domain-error';

describe('assertSelfOrAdmin', () => {
  const me = { id: 'a', roles: ['user' as const], sessionId: 's' };
  const admin = { id: 'z', roles: ['user' as const, 'admin' as const], sessionId: 's' };

  it('lets the owner and admins through', () => {
    expect(() => assertSelfOrAdmin(me, 'a')).not.toThrow();
    expect(() => assertSelfOrAdmin(admin, 'a')).not.toThrow();
  });

  it('refuses anyone else with 403 and anonymous callers with 401', () => {
    const e1 = (() => {
      try {
        assertSelfOrAdmin(me, 'b');
      } catch (e) {
        return e as DomainError;
      }
    })();
    expect(e1?.status).toBe(403);
    const e2 = (() => {
      try {
        assertSelfOrAdmin(undefined, 'b');
      } catch (e) {
        return e as DomainError;
      }
    })();
    expect(e2?.status).toBe(401);
  });
});
