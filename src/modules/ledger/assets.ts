/**
 * The asset catalogue. Pure data: no database, no Nest.
 *
 * Amounts of an asset are kept as integers in its minor unit (10^-decimals of one unit),
 * see `money.ts`. `network` says which chain family a deposit address comes from;
 * `null` means the asset has no deposit address (fiat USD, the platform's SOFT token).
 */

export const ASSET_SYMBOLS = ['BTC', 'ETH', 'USDT', 'USD', 'SOFT'] as const;

export type AssetSymbol = (typeof ASSET_SYMBOLS)[number];

/** Chain family a deposit address is derived for. */
export type NetworkFamily = 'bitcoin' | 'ethereum';

/** What kind of asset it is (how it is held / deposited). */
export type AssetKind = 'native' | 'erc20' | 'fiat' | 'platform';

export interface AssetInfo {
  readonly symbol: AssetSymbol;
  readonly name: string;
  /** Number of decimal places; the minor unit is 10^-decimals. */
  readonly decimals: number;
  readonly kind: AssetKind;
  /**
   * Network family of the deposit address, or `null` when the asset has none.
   * USDT is an ERC-20 token: its deposit address is the user's Ethereum address.
   */
  readonly network: NetworkFamily | null;
}

export const ASSETS: Readonly<Record<AssetSymbol, AssetInfo>> = Object.freeze({
  BTC: Object.freeze({ symbol: 'BTC', name: 'Bitcoin', decimals: 8, kind: 'native', network: 'bitcoin' }),
  ETH: Object.freeze({ symbol: 'ETH', name: 'Ether', decimals: 18, kind: 'native', network: 'ethereum' }),
  USDT: Object.freeze({ symbol: 'USDT', name: 'Tether USD', decimals: 6, kind: 'erc20', network: 'ethereum' }),
  USD: Object.freeze({ symbol: 'USD', name: 'US Dollar', decimals: 2, kind: 'fiat', network: null }),
  SOFT: Object.freeze({ symbol: 'SOFT', name: 'Softchat Token', decimals: 8, kind: 'platform', network: null }),
} satisfies Record<AssetSymbol, AssetInfo>);

/** True for exactly the catalogue's symbols (case-sensitive: `"btc"` is not a symbol). */
export function isAssetSymbol(x: unknown): x is AssetSymbol {
  return typeof x === 'string' && (ASSET_SYMBOLS as readonly string[]).includes(x);
}

/** The catalogue entry of a symbol; throws a `RangeError` for anything that is not a known symbol. */
export function getAsset(symbol: AssetSymbol): AssetInfo {
  if (!isAssetSymbol(symbol)) {
    throw new RangeError(`unknown asset ${JSON.stringify(String(symbol))}; expected one of ${ASSET_SYMBOLS.join(', ')}`);
  }
  return ASSETS[symbol];
}

/** Symbols whose deposit address is derived on the given network family. */
export function assetsOnNetwork(network: NetworkFamily): AssetSymbol[] {
  return ASSET_SYMBOLS.filter((s) => ASSETS[s].network === network);
}
