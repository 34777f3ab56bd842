/**
 * Exact money: amounts are `bigint`s in the asset's minor unit (satoshi for BTC, wei for ETH,
 * cents for USD, ...). On the wire they are decimal strings (`"0.00150000"`), never floats.
 * Pure functions: no database, no Nest.
 */
import { ASSET_SYMBOLS, AssetSymbol, getAsset, isAssetSymbol } from './assets';

/** Thrown for amounts that are not acceptable input. `field` names the offending input field. */
export class MoneyFormatError extends Error {
  constructor(
    public readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'MoneyFormatError';
  }
}

/** Largest number of integer (whole-unit) digits accepted from input, after leading zeros are dropped. */
export const MAX_INTEGER_DIGITS = 30;

/** Largest absolute value Postgres `numeric(78,0)` holds: 10^78 - 1. */
export const NUMERIC_78_MAX = 10n ** 78n - 1n;

/** Denominator of basis points: 10000 bps = 100 %. */
export const BPS_DENOMINATOR = 10_000n;

/**
 * Upper bound on the raw input length, checked before anything else so that a huge string
 * costs nothing. Generous enough for any legitimate amount with some leading zeros.
 */
const MAX_INPUT_LENGTH = 128;

const PLAIN_DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;

/** 10^decimals as a bigint. */
export function pow10(decimals: number): bigint {
  if (!Number.isSafeInteger(decimals) || decimals < 0) {
    throw new RangeError(`decimals must be a non-negative integer, got ${String(decimals)}`);
  }
  return 10n ** BigInt(decimals);
}

/** Minor units in one whole unit of the asset (100000000n for BTC). */
export function unitsPerWhole(asset: AssetSymbol): bigint {
  return pow10(getAsset(asset).decimals);
}

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  return typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

/**
 * Parse a client-supplied amount into minor units of `asset`.
 *
 * Accepts only a string of ASCII digits with an optional fractional part: `"1"`, `"0.5"`,
 * `"10.00000001"`, `"0.00150000"`; leading zeros (`"007"`) are accepted and normalised.
 * Refuses (with a `MoneyFormatError` naming `field`) anything else: JSON numbers, empty strings,
 * signs, exponents, whitespace, a leading or trailing `.`, hex, more fractional digits than the
 * asset has, zero (unless `opts.allowZero`), and values with more than `MAX_INTEGER_DIGITS` integer digits.
 */
export function parseAmount(
  input: unknown,
  asset: AssetSymbol,
  field = 'amount',
  opts: { allowZero?: boolean } = {},
): bigint {
  if (!isAssetSymbol(asset)) {
    throw new MoneyFormatError('asset', `asset must be one of ${ASSET_SYMBOLS.join(', ')}`);
  }
  const { decimals } = getAsset(asset);

  if (typeof input !== 'string') {
    throw new MoneyFormatError(field, `${field} must be a decimal string (e.g. "1.5"), not ${describe(input)}`);
  }
  if (input.length === 0) {
    throw new MoneyFormatError(field, `${field} must not be empty`);
  }
  if (input.length > MAX_INPUT_LENGTH) {
    throw new MoneyFormatError(field, `${field} is too long (at most ${MAX_INPUT_LENGTH} characters)`);
  }

  const match = PLAIN_DECIMAL.exec(input);
  if (!match) {
    if (/^\s*-\s*[0-9.]/.test(input)) {
      throw new MoneyFormatError(field, `${field} must not be negative`);
    }
    throw new MoneyFormatError(
      field,
      `${field} must be a plain decimal string of digits with an optional fractional part, like "1" or "0.5" ` +
        `(no sign, exponent, whitespace, separators, or leading/trailing ".")`,
    );
  }

  const intDigits = match[1].replace(/^0+(?=[0-9])/, '');
  const fracDigits = match[2] ?? '';

  if (fracDigits.length > decimals) {
    throw new MoneyFormatError(
      field,
      decimals === 0
        ? `${field} must be a whole number for ${asset}`
        : `${field} has too many decimal places: ${asset} allows at most ${decimals}`,
    );
  }
  if (intDigits.length > MAX_INTEGER_DIGITS) {
    throw new MoneyFormatError(field, `${field} is too large (at most ${MAX_INTEGER_DIGITS} integer digits)`);
  }

  const minor = BigInt(intDigits + fracDigits.padEnd(decimals, '0'));

  if (minor > NUMERIC_78_MAX) {
    // Unreachable with the digit limit above and the catalogue's decimals; kept as a hard stop.
    throw new MoneyFormatError(field, `${field} is too large`);
  }
  if (minor === 0n && !opts.allowZero) {
    throw new MoneyFormatError(field, `${field} must be greater than zero`);
  }
  return minor;
}

/**
 * Format minor units of `asset` as a decimal string with exactly the asset's number of decimals
 * (`formatAmount(150000n, 'BTC') === "0.00150000"`); negative values get a leading `-`.
 */
export function formatAmount(minor: bigint, asset: AssetSymbol): string {
  if (typeof minor !== 'bigint') {
    throw new TypeError(`formatAmount expects a bigint, got ${describe(minor)}`);
  }
  const { decimals } = getAsset(asset);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  const body = decimals === 0 ? digits : `${digits.slice(0, cut)}.${digits.slice(cut)}`;
  return negative ? `-${body}` : body;
}

function assertBigints(fn: string, values: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(values)) {
    if (typeof v !== 'bigint') throw new TypeError(`${fn}: ${name} must be a bigint, got ${describe(v)}`);
  }
}

/** floor(a * b / d), exact for any signs (rounds toward negative infinity). Throws on d = 0. */
export function mulDivFloor(a: bigint, b: bigint, d: bigint): bigint {
  assertBigints('mulDivFloor', { a, b, d });
  if (d === 0n) throw new RangeError('mulDivFloor: division by zero');
  const n = a * b;
  const q = n / d;
  return n % d !== 0n && n < 0n !== d < 0n ? q - 1n : q;
}

/** ceil(a * b / d), exact for any signs (rounds toward positive infinity). Throws on d = 0. */
export function mulDivCeil(a: bigint, b: bigint, d: bigint): bigint {
  assertBigints('mulDivCeil', { a, b, d });
  if (d === 0n) throw new RangeError('mulDivCeil: division by zero');
  const n = a * b;
  const q = n / d;
  return n % d !== 0n && n < 0n === d < 0n ? q + 1n : q;
}

/** Validate a fee rate in basis points: an integer 0..10000. Returns it as a bigint. */
export function assertBps(bps: number): bigint {
  if (typeof bps !== 'number' || !Number.isInteger(bps) || bps < 0 || bps > 10_000) {
    throw new RangeError(`fee bps must be an integer between 0 and 10000, got ${String(bps)}`);
  }
  return BigInt(bps);
}

/**
 * The fee on `amount` (minor units, >= 0) at `bps` basis points, rounded UP to the next minor
 * unit: ceil(amount * bps / 10000). Rounding down would let many small payments pay no fee at
 * all (1 unit at 1 bps, a million times); rounding up charges at most one minor unit more than
 * the exact rate per payment, and never more than the amount itself (bps <= 10000).
 */
export function feeFor(amount: bigint, bps: number): bigint {
  assertBigints('feeFor', { amount });
  if (amount < 0n) throw new RangeError('feeFor: amount must not be negative');
  return mulDivCeil(amount, assertBps(bps), BPS_DENOMINATOR);
}
