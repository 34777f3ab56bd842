import { DomainError } from '../../core/http/domain-error';
import { CLIENT_MESSAGE_ID, checkContent, checkRoomName } from './chat.rules';

function error(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    return e as DomainError;
  }
  throw new Error('expected a DomainError');
}

describe('chat rules', () => {
  it('keeps valid content verbatim, newlines and emoji included', () => {
    expect(checkContent('  hello\nworld 👋 ', 4000)).toBe('  hello\nworld 👋 ');
  });

  it('refuses blank, oversized, non-string and control-character content with a 400 naming content', () => {
    for (const bad of ['', '   \n\t', 'x'.repeat(11), 42, 'nul\u0000byte', 'bell\u0007']) {
      const e = error(() => checkContent(bad, 10));
      expect(e).toBeInstanceOf(DomainError);
      expect(e.code).toBe('BAD_REQUEST');
      expect(e.message).toMatch(/^content /);
    }
    expect(checkContent('x'.repeat(10), 10)).toHaveLength(10);
  });

  it('trims room names and refuses empty, long or multi-line ones', () => {
    expect(checkRoomName('  general  ')).toBe('general');
    for (const bad of ['', '   ', 'n'.repeat(101), 'two\nlines', null]) {
      expect(error(() => checkRoomName(bad)).message).toMatch(/^name /);
    }
  });

  it('accepts typical client message ids and refuses others', () => {
    expect(CLIENT_MESSAGE_ID.test('c9a7f1c2-6d1e-4b8e-9a55-2f0d7f1e3b10')).toBe(true);
    expect(CLIENT_MESSAGE_ID.test('tmp:42.1')).toBe(true);
    expect(CLIENT_MESSAGE_ID.test('')).toBe(false);
    expect(CLIENT_MESSAGE_ID.test('has space')).toBe(false);
    expect(CLIENT_MESSAGE_ID.test('x'.repeat(65))).toBe(false);
  });
});
