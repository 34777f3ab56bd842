/**
 * P2P money math. Pure functions, no database, no Nest.
 *
 * - Crypto amounts are bigint minor units of the asset (see ledger/money.ts).
 * - A price is fiat per ONE whole unit of the asset, with up to 8 decimals: a bigint in 1e-8 fiat.
 * - A fiat amount has exactly 2 decimals: a bigint in cents (1e-2 fiat).
 *
 * fiatAmount = amount × price, rounded to the cent HALF-UP (0.005 → 0.01, 0.00499… → 0.00):
 * the ordinary commercial rounding a buyer can check with a calculator. Exact bigint arithmetic,
 * no floats anywhere.
 */
import { getAsset, AssetSymbol } from '../ledger/assets';
import { formatScaled as formatExact, parseScaled as parseDecimalInput, pow10 } from '../ledger/money';

export const PRICE_DECIMALS = 8;
export const FIAT_DECIMALS = 2;
/** Largest number of integer digits in a price / a fiat amount (numeric(38,8) / numeric(32,2)). */
export const PRICE_MAX_INT_DIGITS = 30;
export const FIAT_MAX_INT_DIGITS = 30;

/** Parses a client decimal string into an integer scaled by 10^decimals; refuses zero (ledger/money.ts parseScaled). */
export function parseScaled(input: unknown, decimals: number, field: string, maxIntDigits: number): bigint {
  return parseDecimalInput(input, decimals, field, { maxIntDigits, maxLength: 80 });
}

export const parsePrice = (input: unknown, field = 'price') => parseScaled(input, PRICE_DECIMALS, field, PRICE_MAX_INT_DIGITS);
export const parseFiat = (input: unknown, field = 'fiatAmount') => parseScaled(input, FIAT_DECIMALS, field, FIAT_MAX_INT_DIGITS);

/** A Postgres numeric rendered as text ("65000.12000000") → scaled bigint. Trusted input. */
export function scaledFromDb(text: string, decimals: number): bigint {
  const [i, f = ''] = text.split('.');
  return BigInt(i + f.padEnd(decimals, '0').slice(0, decimals));
}

/** A scaled bigint → decimal text with exactly `decimals` places (for SQL parameters and fiat output). */
export const formatScaled = formatExact;

export const formatFiat = (cents: bigint) => formatScaled(cents, FIAT_DECIMALS);

/** A price without useless trailing zeros, but always with at least 2 decimals ("65000.12", "0.00012345"). */
export function formatPrice(e8: bigint): string {
  const full = formatScaled(e8, PRICE_DECIMALS);
  return full.replace(/(\.\d\d\d*?)0+$/, '$1');
}

/** round-half-up(n / d) for n >= 0, d > 0. */
export function divRoundHalfUp(n: bigint, d: bigint): bigint {
  if (n < 0n || d <= 0n) throw new RangeError('divRoundHalfUp expects n >= 0 and d > 0');
  const q = n / d;
  const r = n % d;
  return r * 2n >= d ? q + 1n : q;
}

/** Cents for `amount` (minor units of `asset`) at `priceE8` (fiat per whole unit, 1e-8), rounded half-up. */
export function fiatFor(amount: bigint, asset: AssetSymbol, priceE8: bigint): bigint {
  if (amount <= 0n || priceE8 <= 0n) throw new RangeError('fiatFor expects a positive amount and price');
  const { decimals } = getAsset(asset);
  // amount/10^d whole units × price/10^8 fiat, in cents (×10^2).
  return divRoundHalfUp(amount * priceE8 * pow10(FIAT_DECIMALS), pow10(decimals + PRICE_DECIMALS));
}

/** Largest fiat amount representable in the database column (numeric(32,2)). */
export const FIAT_MAX_CENTS = 10n ** 32n - 1n;
