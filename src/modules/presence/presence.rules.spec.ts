import { effectiveStatus, isPresenceStatus, transition } from './presence.rules';

describe('presence rules', () => {
  it('is offline without connections, whatever was chosen', () => {
    expect(effectiveStatus(0, 'busy')).toBe('offline');
    expect(effectiveStatus(0, null)).toBe('offline');
  });

  it('is the chosen status while connected, online by default, and offline when invisible', () => {
    expect(effectiveStatus(1, null)).toBe('online');
    expect(effectiveStatus(2, 'away')).toBe('away');
    expect(effectiveStatus(1, 'busy')).toBe('busy');
    expect(effectiveStatus(3, 'offline')).toBe('offline');
    expect(effectiveStatus(1, 'garbage')).toBe('online');
  });

  it('announces only visible changes', () => {
    expect(transition('offline', 'online')).toEqual({ from: 'offline', to: 'online' });
    expect(transition('online', 'online')).toBeNull();
    expect(transition('offline', 'offline')).toBeNull();
    expect(transition('busy', 'offline')).toEqual({ from: 'busy', to: 'offline' });
  });

  it('knows the four statuses', () => {
    expect(['online', 'away', 'busy', 'offline'].every(isPresenceStatus)).toBe(true);
    expect(isPresenceStatus('invisible')).toBe(false);
    expect(isPresenceStatus(undefined)).toBe(false);
  });
});
