import { plan } from '../../core/realtime/announce';
import { UserOffline, UserOnline } from './presence.events';

describe('presence events', () => {
  it('tells each room-mate on their own topic, and their sockets', () => {
    const p = plan(UserOnline, { userId: 'u1', status: 'away', lastSeenAt: null }, { users: ['a', 'b'] });
    expect(p.emit).toEqual({ audience: { users: ['a', 'b'] }, event: 'user_online', payload: { userId: 'u1', status: 'away' } });
    expect(p.publishes).toEqual([
      ['presence:a', { presenceChanged: { userId: 'u1', status: 'away', lastSeenAt: null } }],
      ['presence:b', { presenceChanged: { userId: 'u1', status: 'away', lastSeenAt: null } }],
    ]);
  });

  it('sends the last-seen time with user_offline', () => {
    const at = '2026-01-01T00:00:00.000Z';
    expect(plan(UserOffline, { userId: 'u1', status: 'offline', lastSeenAt: at }, { users: ['a'] }).emit?.payload).toEqual({ userId: 'u1', lastSeenAt: at });
    expect(plan(UserOffline, { userId: 'u1', status: 'offline', lastSeenAt: null }, { users: ['a'] }).emit?.payload).toMatchObject({ userId: 'u1', lastSeenAt: expect.any(String) });
  });
});
