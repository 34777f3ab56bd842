/**
 * Production requires BTC_XPUB and ETH_XPUB (account-level watch-only keys). A benchmark's app gets a
 * throwaway pair derived from a random seed that is never stored: its deposit addresses are valid and
 * nobody holds their keys, which is fine for a loopback benchmark that never receives a deposit.
 */
import { randomBytes } from 'node:crypto';
import { HDKey } from '@scure/bip32';

let cached: { BTC_XPUB: string; ETH_XPUB: string } | null = null;

export function benchXpubs(): { BTC_XPUB: string; ETH_XPUB: string } {
  if (!cached) {
    const master = HDKey.fromMasterSeed(randomBytes(32));
    cached = { BTC_XPUB: master.derive("m/84'/0'/0'").publicExtendedKey, ETH_XPUB: master.derive("m/44'/60'/0'").publicExtendedKey };
  }
  return cached;
}
