import { MoneyFormatError } from '../ledger/money';
import { divRoundHalfUp, fiatFor, formatFiat, formatPrice, parseFiat, parsePrice, scaledFromDb } from './p2p.math';

describe('p2p money math', () => {
  it('parses prices with up to 8 decimals and fiat with exactly up to 2', () => {
    expect(parsePrice('65000.12')).toBe(6_500_012_000_000n);
    expect(parsePrice('0.00000001')).toBe(1n);
    expect(parsePrice('007.5')).toBe(750_000_000n);
    expect(parseFiat('650.00')).toBe(65_000n);
    expect(parseFiat('0.01')).toBe(1n);
    for (const bad of ['0', '0.00', '-1', '1e3', '1.', '.5', ' 1', '1.123456789', 'abc', '']) {
      expect(() => parsePrice(bad)).toThrow(MoneyFormatError);
    }
    expect(() => parsePrice(5 as unknown)).toThrow(/price must be a decimal string/);
    expect(() => parseFiat('1.001')).toThrow(/fiatAmount has too many decimal places: at most 2/);
    expect(() => parseFiat('0')).toThrow(/fiatAmount must be greater than zero/);
  });

  it('formats prices without useless zeros (at least 2 decimals) and fiat with 2', () => {
    expect(formatPrice(6_500_012_000_000n)).toBe('65000.12');
    expect(formatPrice(6_500_000_000_000n)).toBe('65000.00');
    expect(formatPrice(110_000_000n)).toBe('1.10');
    expect(formatPrice(12_345n)).toBe('0.00012345');
    expect(formatFiat(65_000n)).toBe('650.00');
    expect(formatFiat(5n)).toBe('0.05');
    expect(scaledFromDb('65000.12000000', 8)).toBe(6_500_012_000_000n);
    expect(scaledFromDb('650.00', 2)).toBe(65_000n);
  });

  it('rounds half up', () => {
    expect(divRoundHalfUp(5n, 10n)).toBe(1n);
    expect(divRoundHalfUp(4n, 10n)).toBe(0n);
    expect(divRoundHalfUp(14n, 10n)).toBe(1n);
    expect(divRoundHalfUp(15n, 10n)).toBe(2n);
    expect(divRoundHalfUp(20n, 10n)).toBe(2n);
    expect(() => divRoundHalfUp(-1n, 10n)).toThrow(RangeError);
  });

  it('computes fiatAmount = amount × price exactly, rounded to the cent half-up', () => {
    // 0.01 BTC at 65,000.00 = 650.00 exactly
    expect(formatFiat(fiatFor(1_000_000n, 'BTC', parsePrice('65000')))).toBe('650.00');
    // 0.00012345 BTC at 65,000.00 = 8.024250 → 8.02
    expect(formatFiat(fiatFor(12_345n, 'BTC', parsePrice('65000')))).toBe('8.02');
    // 0.00012347 BTC at 65,000.00 = 8.02555 → 8.03 (the half-cent rounds up)
    expect(formatFiat(fiatFor(12_347n, 'BTC', parsePrice('65000')))).toBe('8.03');
    // exactly half a cent: 0.5 USDT at 0.01 = 0.005 → 0.01
    expect(formatFiat(fiatFor(500_000n, 'USDT', parsePrice('0.01')))).toBe('0.01');
    // just under half a cent: 0.499999 USDT at 0.01 → 0.00
    expect(fiatFor(499_999n, 'USDT', parsePrice('0.01'))).toBe(0n);
    // 1 wei of ETH at a huge price stays exact (no floats): 1e-18 × 3,000.12345678 → 0.00
    expect(fiatFor(1n, 'ETH', parsePrice('3000.12345678'))).toBe(0n);
    // 123.456789 USDT at 1.23456789 = 152.415787... → 152.42
    expect(formatFiat(fiatFor(123_456_789n, 'USDT', parsePrice('1.23456789')))).toBe('152.42');
    // 2.5 SOFT at 0.333 = 0.8325 → 0.83
    expect(formatFiat(fiatFor(250_000_000n, 'SOFT', parsePrice('0.333')))).toBe('0.83');
    expect(() => fiatFor(0n, 'BTC', 1n)).toThrow(RangeError);
  });
});
