/**
 * Exact decimal arithmetic on the API's decimal strings, for previews and checks in forms
 * (e.g. "≈ 1,234.50 USD for 0.025 BTC" and "between the offer's limits"). Hand-written on
 * BigInt because the client has no decimal library and needs only parse/compare/multiply;
 * the server stays the authority on every amount.
 */

export interface Dec {
  /** The digits as an integer: value = units / 10^scale. */
  units: bigint;
  scale: number;
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

export function parseDecimal(text: string): Dec | null {
  const m = DECIMAL.exec(text.trim());
  if (!m) return null;
  const frac = m[3] ?? '';
  const units = BigInt(m[2] + frac) * (m[1] ? -1n : 1n);
  return { units, scale: frac.length };
}

export const isDecimal = (text: string) => parseDecimal(text) !== null;

function align(a: Dec, b: Dec): [bigint, bigint] {
  const s = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(s - a.scale), b.units * 10n ** BigInt(s - b.scale)];
}

/** -1, 0 or 1; null when either side is not a decimal. */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 | null {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return null;
  const [p, q] = align(x, y);
  return p < q ? -1 : p > q ? 1 : 0;
}

export function formatDec(d: Dec, places: number): string {
  // Round half away from zero to `places`.
  let units = d.units;
  let scale = d.scale;
  if (scale > places) {
    const div = 10n ** BigInt(scale - places);
    const neg = units < 0n;
    const abs = neg ? -units : units;
    let q = abs / div;
    if ((abs % div) * 2n >= div) q += 1n;
    units = neg ? -q : q;
    scale = places;
  } else if (scale < places) {
    units *= 10n ** BigInt(places - scale);
    scale = places;
  }
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = scale ? '.' + digits.slice(digits.length - scale) : '';
  return (neg && units !== 0n ? '-' : '') + int + frac;
}

/** a × b, rounded to `places` decimals; null when either is not a decimal. */
export function multiplyDecimal(a: string, b: string, places: number): string | null {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return null;
  return formatDec({ units: x.units * y.units, scale: x.scale + y.scale }, places);
}
