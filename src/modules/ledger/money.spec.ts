import { ASSETS, ASSET_SYMBOLS, AssetSymbol, assetsOnNetwork, getAsset, isAssetSymbol } from './assets';
import {
  BPS_DENOMINATOR,
  DecimalError,
  MAX_INTEGER_DIGITS,
  MoneyFormatError,
  NUMERIC_78_MAX,
  feeFor,
  formatAmount,
  formatDecimal,
  formatScaled,
  mulDivCeil,
  mulDivFloor,
  normalizeDecimal,
  parseAmount,
  parseDecimal,
  parseScaled,
  unitsPerWhole,
} from './money';

/** Runs `fn`, expects a MoneyFormatError, returns it. */
function refusal(fn: () => unknown): MoneyFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MoneyFormatError);
    return err as MoneyFormatError;
  }
  throw new Error('expected a MoneyFormatError, nothing was thrown');
}

describe('assets', () => {
  it('has the catalogue with the right decimals and networks', () => {
    expect(ASSET_SYMBOLS).toEqual(['BTC', 'ETH', 'USDT', 'USD', 'SOFT']);
    expect(Object.keys(ASSETS).sort()).toEqual([...ASSET_SYMBOLS].sort());
    expect(ASSETS.BTC).toMatchObject({ symbol: 'BTC', decimals: 8, network: 'bitcoin' });
    expect(ASSETS.ETH).toMatchObject({ symbol: 'ETH', decimals: 18, network: 'ethereum' });
    expect(ASSETS.USDT).toMatchObject({ symbol: 'USDT', decimals: 6, network: 'ethereum', kind: 'erc20' });
    expect(ASSETS.USD).toMatchObject({ symbol: 'USD', decimals: 2, network: null });
    expect(ASSETS.SOFT).toMatchObject({ symbol: 'SOFT', decimals: 8, network: null });
    for (const s of ASSET_SYMBOLS) expect(ASSETS[s].symbol).toBe(s);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(ASSETS)).toBe(true);
    expect(Object.isFrozen(ASSETS.BTC)).toBe(true);
  });

  it('isAssetSymbol accepts exactly the symbols', () => {
    for (const s of ASSET_SYMBOLS) expect(isAssetSymbol(s)).toBe(true);
    for (const x of ['btc', 'Btc', ' BTC', 'DOGE', '', 'toString', '__proto__', 'constructor', 1, null, undefined, {}, ['BTC']]) {
      expect(isAssetSymbol(x)).toBe(false);
    }
  });

  it('getAsset returns the entry or throws for unknown symbols', () => {
    expect(getAsset('ETH')).toBe(ASSETS.ETH);
    expect(() => getAsset('DOGE' as AssetSymbol)).toThrow(RangeError);
    expect(() => getAsset('toString' as AssetSymbol)).toThrow(RangeError);
  });

  it('lists assets per network', () => {
    expect(assetsOnNetwork('bitcoin')).toEqual(['BTC']);
    expect(assetsOnNetwork('ethereum')).toEqual(['ETH', 'USDT']);
  });
});

describe('parseAmount: accepted forms', () => {
  it.each<[string, AssetSymbol, bigint]>([
    ['1', 'BTC', 100_000_000n],
    ['0.5', 'BTC', 50_000_000n],
    ['10.00000001', 'BTC', 1_000_000_001n],
    ['0.00150000', 'BTC', 150_000n],
    ['0.00000001', 'BTC', 1n],
    ['21000000', 'BTC', 2_100_000_000_000_000n],
    ['1', 'ETH', 10n ** 18n],
    ['0.000000000000000001', 'ETH', 1n],
    ['1.000000000000000001', 'ETH', 10n ** 18n + 1n],
    ['123456789.123456789123456789', 'ETH', 123456789123456789123456789n],
    ['1.5', 'USDT', 1_500_000n],
    ['0.000001', 'USDT', 1n],
    ['19.99', 'USD', 1999n],
    ['0.01', 'USD', 1n],
    ['100', 'USD', 10000n],
    ['2.5', 'SOFT', 250_000_000n],
  ])('%s %s → %s', (input, asset, minor) => {
    expect(parseAmount(input, asset)).toBe(minor);
  });

  it('accepts and normalises leading zeros', () => {
    expect(parseAmount('007', 'USD')).toBe(700n);
    expect(parseAmount('00.50', 'USD')).toBe(50n);
    expect(formatAmount(parseAmount('0007.1', 'BTC'), 'BTC')).toBe('7.10000000');
    // leading zeros do not count toward the integer-digit limit
    expect(parseAmount('0'.repeat(40) + '1', 'USD')).toBe(100n);
  });

  it('accepts trailing zeros up to the asset decimals', () => {
    expect(parseAmount('1.00000000', 'BTC')).toBe(100_000_000n);
    expect(parseAmount('1.10', 'USD')).toBe(110n);
  });

  it('accepts zero only with allowZero', () => {
    for (const z of ['0', '0.0', '0.00', '000']) {
      expect(parseAmount(z, 'USD', 'amount', { allowZero: true })).toBe(0n);
      const e = refusal(() => parseAmount(z, 'USD'));
      expect(e.message).toMatch(/greater than zero/);
    }
  });

  it('accepts the largest allowed value (30 integer digits, all decimals)', () => {
    const max = '9'.repeat(MAX_INTEGER_DIGITS) + '.' + '9'.repeat(18);
    const minor = parseAmount(max, 'ETH');
    expect(minor).toBe(10n ** 48n - 1n);
    expect(minor <= NUMERIC_78_MAX).toBe(true);
    expect(formatAmount(minor, 'ETH')).toBe(max);
  });
});

describe('parseAmount: refused forms', () => {
  it.each<[string, unknown, RegExp]>([
    ['JSON number', 1, /price must be a decimal string.*not a number/],
    ['JSON float', 0.5, /must be a decimal string/],
    ['NaN', NaN, /must be a decimal string/],
    ['bigint', 1n, /must be a decimal string/],
    ['null', null, /must be a decimal string.*null/],
    ['undefined', undefined, /must be a decimal string/],
    ['boolean', true, /must be a decimal string/],
    ['object', { value: '1' }, /must be a decimal string.*object/],
    ['array', ['1'], /must be a decimal string.*array/],
    ['String object', new String('1'), /must be a decimal string/],
  ])('%s', (_label, input, message) => {
    const e = refusal(() => parseAmount(input, 'BTC', 'price'));
    expect(e.field).toBe('price');
    expect(e.message).toMatch(message);
  });

  it.each<[string, string]>([
    ['plus sign', '+1'],
    ['exponent', '1e3'],
    ['upper exponent', '1E3'],
    ['exponent with fraction', '1.5e-3'],
    ['leading space', ' 1'],
    ['trailing space', '1 '],
    ['trailing newline', '1\n'],
    ['inner space', '1 000'],
    ['tab', '\t1'],
    ['leading dot', '.5'],
    ['trailing dot', '5.'],
    ['lone dot', '.'],
    ['two dots', '1.2.3'],
    ['hex', '0x10'],
    ['hex digits', 'ff'],
    ['octal prefix', '0o7'],
    ['binary prefix', '0b1'],
    ['comma decimal', '1,5'],
    ['thousands separator', '1,000.00'],
    ['underscore separator', '1_000'],
    ['Infinity', 'Infinity'],
    ['NaN string', 'NaN'],
    ['letters', 'abc'],
    ['currency sign', '$1'],
    ['unit suffix', '1BTC'],
    ['fullwidth digit', '１'],
    ['arabic-indic digit', '٣'],
  ])('%s (%j)', (_label, input) => {
    const e = refusal(() => parseAmount(input, 'BTC'));
    expect(e.field).toBe('amount');
    expect(e.message).toMatch(/^amount must be a plain decimal string/);
  });

  it('refuses the empty string', () => {
    const e = refusal(() => parseAmount('', 'USD', 'minAmount'));
    expect(e.field).toBe('minAmount');
    expect(e.message).toBe('minAmount must not be empty');
  });

  it.each(['-1', '-0.5', '-0', '- 1'])('refuses the negative %j', (input) => {
    const e = refusal(() => parseAmount(input, 'USD', 'amount', { allowZero: true }));
    expect(e.message).toBe('amount must not be negative');
  });

  it.each<[AssetSymbol, string, number]>([
    ['BTC', '0.000000001', 8],
    ['BTC', '1.000000000', 8],
    ['ETH', '0.0000000000000000001', 18],
    ['USDT', '1.0000001', 6],
    ['USD', '1.001', 2],
    ['USD', '0.005', 2],
    ['SOFT', '0.123456789', 8],
  ])('refuses too many decimals for %s (%s)', (asset, input, max) => {
    const e = refusal(() => parseAmount(input, asset));
    expect(e.field).toBe('amount');
    expect(e.message).toBe(`amount has too many decimal places: ${asset} allows at most ${max}`);
  });

  it('refuses more than 30 integer digits', () => {
    const e = refusal(() => parseAmount('1' + '0'.repeat(MAX_INTEGER_DIGITS), 'USD'));
    expect(e.message).toMatch(/amount is too large \(at most 30 integer digits\)/);
    expect(() => parseAmount('9'.repeat(MAX_INTEGER_DIGITS), 'USD')).not.toThrow();
  });

  it('refuses absurdly long strings cheaply', () => {
    const e = refusal(() => parseAmount('1'.repeat(10_000), 'USD'));
    expect(e.message).toMatch(/too long/);
    refusal(() => parseAmount('0.' + '0'.repeat(200) + '1', 'ETH'));
  });

  it('refuses an unknown asset as a field error', () => {
    const e = refusal(() => parseAmount('1', 'DOGE' as AssetSymbol));
    expect(e.field).toBe('asset');
    expect(e.message).toMatch(/asset must be one of BTC, ETH, USDT, USD, SOFT/);
  });

  it('is a real Error with a name', () => {
    const e = refusal(() => parseAmount(1, 'BTC'));
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('MoneyFormatError');
  });
});

describe('formatAmount', () => {
  it.each<[bigint, AssetSymbol, string]>([
    [150_000n, 'BTC', '0.00150000'],
    [0n, 'BTC', '0.00000000'],
    [1n, 'BTC', '0.00000001'],
    [100_000_000n, 'BTC', '1.00000000'],
    [2_100_000_000_000_000n, 'BTC', '21000000.00000000'],
    [1n, 'ETH', '0.000000000000000001'],
    [10n ** 18n, 'ETH', '1.000000000000000000'],
    [1_500_000n, 'USDT', '1.500000'],
    [1999n, 'USD', '19.99'],
    [5n, 'USD', '0.05'],
    [250_000_000n, 'SOFT', '2.50000000'],
    [-150_000n, 'BTC', '-0.00150000'],
    [-1n, 'ETH', '-0.000000000000000001'],
    [-1999n, 'USD', '-19.99'],
  ])('%s %s → %s', (minor, asset, text) => {
    expect(formatAmount(minor, asset)).toBe(text);
  });

  it('never prints -0', () => {
    expect(formatAmount(-0n, 'USD')).toBe('0.00');
  });

  it('refuses non-bigint input', () => {
    expect(() => formatAmount(1 as unknown as bigint, 'USD')).toThrow(TypeError);
    expect(() => formatAmount(1n, 'DOGE' as AssetSymbol)).toThrow(RangeError);
  });

  it('round-trips every asset', () => {
    for (const asset of ASSET_SYMBOLS) {
      const d = ASSETS[asset].decimals;
      expect(unitsPerWhole(asset)).toBe(10n ** BigInt(d));
      const samples = [1n, 7n, 10n ** BigInt(d), 10n ** BigInt(d) + 1n, 123456789n * 10n ** BigInt(d) + 42n, 10n ** BigInt(d + 30) - 1n];
      for (const minor of samples) {
        const text = formatAmount(minor, asset);
        expect(text.split('.')[1]?.length ?? 0).toBe(d);
        expect(parseAmount(text, asset)).toBe(minor);
        expect(formatAmount(parseAmount(text, asset), asset)).toBe(text);
      }
      expect(parseAmount(formatAmount(0n, asset), asset, 'amount', { allowZero: true })).toBe(0n);
    }
  });

  it('keeps full 18-decimal precision for huge ETH values (beyond float range)', () => {
    const text = '987654321987654321987654321.123456789012345678';
    const minor = parseAmount(text, 'ETH');
    expect(minor).toBe(987654321987654321987654321123456789012345678n);
    expect(formatAmount(minor, 'ETH')).toBe(text);
    expect(formatAmount(minor + 1n, 'ETH')).toBe('987654321987654321987654321.123456789012345679');
  });
});

describe('mulDivFloor / mulDivCeil', () => {
  it('rounds positive results down / up', () => {
    expect(mulDivFloor(10n, 1n, 3n)).toBe(3n);
    expect(mulDivCeil(10n, 1n, 3n)).toBe(4n);
    expect(mulDivFloor(9n, 1n, 3n)).toBe(3n);
    expect(mulDivCeil(9n, 1n, 3n)).toBe(3n);
    expect(mulDivFloor(0n, 5n, 7n)).toBe(0n);
    expect(mulDivCeil(0n, 5n, 7n)).toBe(0n);
  });

  it('rounds toward -inf / +inf for negative results', () => {
    expect(mulDivFloor(-10n, 1n, 3n)).toBe(-4n);
    expect(mulDivCeil(-10n, 1n, 3n)).toBe(-3n);
    expect(mulDivFloor(10n, 1n, -3n)).toBe(-4n);
    expect(mulDivCeil(10n, 1n, -3n)).toBe(-3n);
    expect(mulDivFloor(-10n, -1n, 3n)).toBe(3n);
    expect(mulDivCeil(-10n, 1n, -3n)).toBe(4n);
  });

  it('is exact with huge intermediates (no overflow)', () => {
    // 1 BTC at 65432.10 USD per BTC, in cents: quote = qty_sats * price_cents / 1e8
    expect(mulDivFloor(100_000_000n, 6_543_210n, 100_000_000n)).toBe(6_543_210n);
    expect(mulDivFloor(1n, 6_543_210n, 100_000_000n)).toBe(0n);
    expect(mulDivCeil(1n, 6_543_210n, 100_000_000n)).toBe(1n);
    const big = 10n ** 48n - 1n;
    expect(mulDivFloor(big, big, big)).toBe(big);
    expect(mulDivCeil(big, 3n, 2n)).toBe((big * 3n + 1n) / 2n);
  });

  it('refuses division by zero and non-bigints', () => {
    expect(() => mulDivFloor(1n, 1n, 0n)).toThrow(RangeError);
    expect(() => mulDivCeil(1n, 1n, 0n)).toThrow(RangeError);
    expect(() => mulDivFloor(1 as unknown as bigint, 1n, 1n)).toThrow(TypeError);
  });
});

describe('feeFor', () => {
  it('computes ceil(amount * bps / 10000): a fractional minor unit is charged as a whole one', () => {
    expect(BPS_DENOMINATOR).toBe(10_000n);
    expect(feeFor(1_000_000n, 25)).toBe(2_500n); // 0.25 %, exact
    expect(feeFor(10_000n, 1)).toBe(1n);
    expect(feeFor(9_999n, 1)).toBe(1n); // 0.9999 → 1: small transfers do not dodge the fee
    expect(feeFor(19_999n, 1)).toBe(2n);
    expect(feeFor(333n, 3_333)).toBe(111n); // 110.9889 → 111
    expect(feeFor(1n, 9_999)).toBe(1n);
    expect(feeFor(1n, 1)).toBe(1n); // the smallest payment at the smallest rate still pays
    expect(feeFor(123_456_789n, 0)).toBe(0n); // no rate, no fee
    expect(feeFor(123_456_789n, 10_000)).toBe(123_456_789n);
    expect(feeFor(0n, 50)).toBe(0n);
  });

  it('makes many small payments pay at least what one large payment pays', () => {
    const bps = 10;
    const small = 99n; // 0.099 units of fee each when exact
    const n = 1_000n;
    expect(feeFor(small, bps) * n).toBeGreaterThanOrEqual(feeFor(small * n, bps));
    expect(feeFor(small, bps)).toBe(1n);
  });

  it('stays exact on 18-decimal amounts', () => {
    const oneEth = 10n ** 18n;
    expect(feeFor(oneEth, 30)).toBe(3n * 10n ** 15n);
    expect(feeFor(oneEth + 1n, 30)).toBe(3n * 10n ** 15n + 1n); // the extra wei's 0.0030 fee rounds up to 1 wei
    expect(feeFor(10n ** 48n - 1n, 1)).toBe(10n ** 44n);
  });

  it('never exceeds the amount, overcharges by less than one minor unit, and fee + net equals the amount', () => {
    for (const amount of [0n, 1n, 2n, 99n, 10_001n, 123_456_789n]) {
      for (const bps of [0, 1, 7, 50, 2_500, 9_999, 10_000]) {
        const fee = feeFor(amount, bps);
        expect(fee >= 0n && fee <= amount).toBe(true);
        const exactTimes10k = amount * BigInt(bps);
        expect(fee * 10_000n >= exactTimes10k).toBe(true);
        expect(fee * 10_000n - exactTimes10k < 10_000n).toBe(true);
        expect(amount - fee + fee).toBe(amount);
      }
    }
  });

  it.each([-1, 10_001, 1.5, NaN, Infinity, '25' as unknown as number])('refuses bps %p', (bps) => {
    expect(() => feeFor(100n, bps)).toThrow(RangeError);
  });

  it('refuses negative amounts', () => {
    expect(() => feeFor(-1n, 10)).toThrow(RangeError);
  });
});

describe('parseScaled / formatScaled (prices, fiat: the same parser as amounts)', () => {
  it('scales plain decimals and round-trips them', () => {
    expect(parseScaled('65000.12', 8, 'price')).toBe(6_500_012_000_000n);
    expect(formatScaled(6_500_012_000_000n, 8)).toBe('65000.12000000');
    expect(formatScaled(-5n, 2)).toBe('-0.05');
  });
  it('names the field and the limits it breaks', () => {
    expect(refusal(() => parseScaled('1.123', 2, 'fiatAmount')).message).toMatch(/fiatAmount has too many decimal places: at most 2/);
    expect(refusal(() => parseScaled('1'.repeat(31), 2, 'fiatAmount')).message).toMatch(/too large/);
    expect(refusal(() => parseScaled('0'.repeat(81), 2, 'price', { maxLength: 80 })).message).toMatch(/at most 80 characters/);
    expect(refusal(() => parseScaled('0', 2, 'price')).field).toBe('price');
    expect(parseScaled('0', 2, 'price', { allowZero: true })).toBe(0n);
  });
});

describe('market decimals (provider numbers, scaled by 10^18)', () => {
  it('reads exponents and signs, rounding half away from zero', () => {
    expect(parseDecimal('6.7e4')).toBe(67_000n * 10n ** 18n);
    expect(formatDecimal(parseDecimal('-3.6049'), 2, 2)).toBe('-3.60');
    expect(normalizeDecimal('0.000000005')).toBe('0.00000001');
    expect(() => parseDecimal('1.2.3')).toThrow(DecimalError);
  });
});
