import { describe, expect, it } from 'vitest';
import { compareDecimal, groupDecimal, isZeroDecimal } from './format';

describe('decimal strings', () => {
  it('groups the integer part only and keeps every digit', () => {
    expect(groupDecimal('1234567.00150000')).toBe('1,234,567.00150000');
    expect(groupDecimal('-1000')).toBe('-1,000');
    expect(groupDecimal('999.9')).toBe('999.9');
    expect(groupDecimal('90071992547409931234.5')).toBe('90,071,992,547,409,931,234.5');
  });
  it('compares exactly, beyond float precision', () => {
    expect(compareDecimal('0.30000000000000001', '0.3')).toBe(1);
    expect(compareDecimal('10.5', '9.75')).toBe(1);
    expect(compareDecimal('100.50', '100.5')).toBe(0);
    expect(compareDecimal('-2', '1')).toBe(-1);
    expect(compareDecimal('-2', '-3')).toBe(1);
    expect(compareDecimal('0', '-0.00')).toBe(0);
  });
  it('knows zero', () => {
    expect(isZeroDecimal('0.0000')).toBe(true);
    expect(isZeroDecimal('0.0001')).toBe(false);
  });
});
