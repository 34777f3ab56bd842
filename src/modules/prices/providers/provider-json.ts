import { isLosslessNumber, LosslessNumber, parse } from 'lossless-json';

/**
 * Provider bodies parsed with the `lossless-json` package: numbers stay as their source text
 * (`LosslessNumber`), so a price sent as 67187.33580000001 is not silently rounded by a double.
 * Strict JSON; a `__proto__` key is stored as data, never as the object's prototype.
 */
export { LosslessNumber as JsonNumber };

export type LosslessJson = null | boolean | string | LosslessNumber | LosslessJson[] | { [k: string]: LosslessJson };

/** Parses a provider's body (a SyntaxError on anything that is not JSON). */
export function parseLosslessJson(text: string): LosslessJson {
  return parse(text) as LosslessJson;
}

/** The text of a JSON number or numeric string; null for anything else. */
export function numberText(v: LosslessJson | undefined): string | null {
  if (isLosslessNumber(v)) return v.value;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v)) return v;
  return null;
}

export function isObject(v: LosslessJson | undefined): v is { [k: string]: LosslessJson } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}
