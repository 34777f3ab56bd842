import { DomainError } from '../../core/http/domain-error';
import { checkNotifyInput, chunk } from './notification.rules';

function messages(input: unknown): string[] {
  try {
    checkNotifyInput(input as never);
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return (e as DomainError).messages ?? [(e as DomainError).message];
  }
  return [];
}

describe('notification input', () => {
  it('normalises a valid input: trimmed title, data copied as plain JSON', () => {
    const data = { orderId: 'o1', amount: '0.10000000', nested: { at: new Date(0) } };
    const out = checkNotifyInput({ type: 'order', title: '  Order filled ', body: 'Your order was filled', data });
    expect(out).toEqual({
      type: 'order',
      title: 'Order filled',
      body: 'Your order was filled',
      data: { orderId: 'o1', amount: '0.10000000', nested: { at: '1970-01-01T00:00:00.000Z' } },
    });
    expect(checkNotifyInput({ type: 'system', title: 't', body: 'b' }).data).toEqual({});
  });

  it('reports every bad field at once, by name', () => {
    const m = messages({ type: 'Not A Type', title: '', body: 42, data: [1] });
    expect(m.join(' ')).toMatch(/type/);
    expect(m.join(' ')).toMatch(/title/);
    expect(m.join(' ')).toMatch(/body/);
    expect(m.join(' ')).toMatch(/data/);
  });

  it('refuses oversize fields, control characters and NUL inside data', () => {
    expect(messages({ type: 'system', title: 'x'.repeat(201), body: 'b' })[0]).toMatch(/title/);
    expect(messages({ type: 'system', title: 't', body: 'b'.repeat(2001) })[0]).toMatch(/body/);
    expect(messages({ type: 'system', title: 'bad\u0000', body: 'b' })[0]).toMatch(/title/);
    expect(messages({ type: 'system', title: 't', body: 'b', data: { s: 'a\u0000b' } })[0]).toMatch(/data/);
    expect(messages({ type: 'system', title: 't', body: 'b', data: { big: 'x'.repeat(9000) } })[0]).toMatch(/data/);
    expect(messages(null).length).toBeGreaterThanOrEqual(3);
  });

  it('chunks lists into batches', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });
});
