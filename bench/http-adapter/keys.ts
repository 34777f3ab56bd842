import { HDKey } from '@scure/bip32';
import { randomBytes } from 'node:crypto';

/** Throwaway account-level watch-only keys: production mode requires BTC_XPUB/ETH_XPUB at start. */
export function benchXpubs(): Record<string, string> {
  const root = HDKey.fromMasterSeed(randomBytes(32));
  return {
    BTC_XPUB: root.derive("m/44'/0'/0'").publicExtendedKey,
    ETH_XPUB: root.derive("m/44'/60'/0'").publicExtendedKey,
  };
}
