/**
 * Exact decimals for market data, with no floats anywhere: provider numbers are kept as the text
 * they were sent as (see lossless-json.ts) and turned into integers scaled by 10^18 here.
 * Pure functions.
 */
export const DECIMAL_SCALE = 18;
const ONE = 10n ** BigInt(DECIMAL_SCALE);
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

/** The median of scaled values: the middle one, or the mean of the two middle ones. */
export function median(values: bigint[]): bigint {
  if (!values.length) throw new DecimalError('median of nothing');
  const v = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2n;
}

/** (max − min) / median in basis points (0 for one value). */
export function spreadBps(values: bigint[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  if (m <= 0n) return 0;
  let lo = values[0];
  let hi = values[0];
  for (const x of values) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return Number(((hi - lo) * 10_000n) / m);
}

/** `a × b` of two scaled values. */
export const mulScaled = (a: bigint, b: bigint): bigint => (a * b) / ONE;
/** `a / b` of two scaled values. */
export const divScaled = (a: bigint, b: bigint): bigint => (a * ONE) / b;
export const SCALED_ONE = ONE;
