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
  return parseScaled(input, getAsset(asset).decimals, field, { ...opts, unit: asset });
}

/**
 * The one parser of client decimals (amounts, prices, fiat): a plain decimal string → an integer
 * scaled by 10^decimals, with the rules and messages `parseAmount` documents. `unit` names what
 * the decimals belong to in messages ("USD allows at most 2").
 */
export function parseScaled(
  input: unknown,
  decimals: number,
  field: string,
  opts: { allowZero?: boolean; maxIntDigits?: number; maxLength?: number; unit?: string } = {},
): bigint {
  const maxLength = opts.maxLength ?? MAX_INPUT_LENGTH;
  const maxIntDigits = opts.maxIntDigits ?? MAX_INTEGER_DIGITS;
  if (typeof input !== 'string') {
    throw new MoneyFormatError(field, `${field} must be a decimal string (e.g. "1.5"), not ${describe(input)}`);
  }
  if (input.length === 0) {
    throw new MoneyFormatError(field, `${field} must not be empty`);
  }
  if (input.length > maxLength) {
    throw new MoneyFormatError(field, `${field} is too long (at most ${maxLength} characters)`);
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
    const unit = opts.unit ? `${opts.unit} allows at most` : 'at most';
    throw new MoneyFormatError(
      field,
      decimals === 0 ? `${field} must be a whole number${opts.unit ? ` for ${opts.unit}` : ''}` : `${field} has too many decimal places: ${unit} ${decimals}`,
    );
  }
  if (intDigits.length > maxIntDigits) {
    throw new MoneyFormatError(field, `${field} is too large (at most ${maxIntDigits} integer digits)`);
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
  return formatScaled(minor, getAsset(asset).decimals);
}

/** An integer scaled by 10^decimals → decimal text with exactly `decimals` places ("-" when negative). */
export function formatScaled(v: bigint, decimals: number): string {
  const negative = v < 0n;
  const digits = (negative ? -v : v).toString().padStart(decimals + 1, '0');
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

// ------------------------------------------------------------------ market decimals

/*
 * Market data (provider prices, 24h changes) is not money and not client input: numbers come as
 * the JSON text a provider sent (read with lossless-json), may be negative or use exponents, and
 * are kept as integers scaled by 10^18, rounded half away from zero past that.
 */
export const DECIMAL_SCALE = 18;
const MARKET_ONE = 10n ** BigInt(DECIMAL_SCALE);
const NUMBER_RE = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export class DecimalError extends Error {}

/** A JSON number or decimal string ("67187.33", "-3.6", "6.7e4", "1E-7") → value × 10^18 (rounded half away from zero past 18 digits). */
export function parseDecimal(text: string): bigint {
  const m = NUMBER_RE.exec(text.trim());
  if (!m || text.length > 200) throw new DecimalError(`not a decimal number: ${JSON.stringify(text.slice(0, 40))}`);
  const [, sign, int, frac = '', expRaw] = m;
  const exp = expRaw ? Number(expRaw) : 0;
  if (Math.abs(exp) > 60) throw new DecimalError(`exponent out of range: ${text.slice(0, 40)}`);
  const digits = BigInt(int + frac);
  // value = digits × 10^(exp − frac.length); scaled by 10^18:
  const shift = exp - frac.length + DECIMAL_SCALE;
  let scaled: bigint;
  if (shift >= 0) scaled = digits * 10n ** BigInt(shift);
  else {
    const d = 10n ** BigInt(-shift);
    scaled = digits / d;
    if ((digits % d) * 2n >= d) scaled += 1n;
  }
  return sign ? -scaled : scaled;
}

/** value × 10^18 → decimal string with at most `maxDecimals` (half away from zero) and at least `minDecimals`. */
export function formatDecimal(scaled: bigint, maxDecimals = 8, minDecimals = 2): string {
  const neg = scaled < 0n;
  let abs = neg ? -scaled : scaled;
  const cut = 10n ** BigInt(DECIMAL_SCALE - maxDecimals);
  const rem = abs % cut;
  abs = abs / cut + (rem * 2n >= cut ? 1n : 0n);
  const s = abs.toString().padStart(maxDecimals + 1, '0');
  let int = s.slice(0, s.length - maxDecimals);
  let frac = s.slice(s.length - maxDecimals);
  while (frac.length > minDecimals && frac.endsWith('0')) frac = frac.slice(0, -1);
  if (!int) int = '0';
  const body = frac ? `${int}.${frac}` : int;
  return neg && abs !== 0n ? `-${body}` : body;
}

/** Normalises a provider's number text ("6.7187335e4" → "67187.335"). */
export function normalizeDecimal(text: string, maxDecimals = 8, minDecimals = 2): string {
  return formatDecimal(parseDecimal(text), maxDecimals, minDecimals);
}

/** `a × b` of two scaled values. */
export const mulScaled = (a: bigint, b: bigint): bigint => (a * b) / MARKET_ONE;
/** `a / b` of two scaled values. */
export const divScaled = (a: bigint, b: bigint): bigint => (a * MARKET_ONE) / b;
export const SCALED_ONE = MARKET_ONE;
