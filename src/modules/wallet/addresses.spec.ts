import { pbkdf2Sync } from 'crypto';
import { HDKey } from '@scure/bip32';
import { bech32, createBase58check } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2';
import {
  DepositKeyError,
  MAX_ADDRESS_INDEX,
  deriveBtcAddress,
  deriveEthAddress,
  ethAddressFromPublicKey,
  generateDevelopmentKeys,
  p2wpkhAddress,
  toChecksumAddress,
} from './addresses';

const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
/** BIP39 mnemonic → seed (no passphrase): PBKDF2-HMAC-SHA512, salt "mnemonic", 2048 rounds, 64 bytes. */
const SEED = new Uint8Array(pbkdf2Sync(MNEMONIC.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512'));

const TPUB_VERSIONS = { public: 0x043587cf, private: 0x04358394 };

// BIP84 published test vectors (https://github.com/bitcoin/bips/blob/master/bip-0084.mediawiki)
const BIP84_ZPUB =
  'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const BIP84_RECEIVE_0 = 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu';
const BIP84_RECEIVE_1 = 'bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g';

const base58check = createBase58check(sha256);

/** Re-encode an extended key with other version bytes (e.g. zpub → xpub). */
function withVersion(extendedKey: string, version: number): string {
  const raw = base58check.decode(extendedKey);
  const out = Uint8Array.from(raw);
  new DataView(out.buffer).setUint32(0, version);
  return base58check.encode(out);
}

describe('deriveBtcAddress (BIP84)', () => {
  const accountXpub = HDKey.fromMasterSeed(SEED).derive("m/84'/0'/0'").publicExtendedKey;

  it('matches the BIP84 spec vector from its zpub', () => {
    expect(deriveBtcAddress(BIP84_ZPUB, 0, 'mainnet')).toBe(BIP84_RECEIVE_0);
    expect(deriveBtcAddress(BIP84_ZPUB, 1, 'mainnet')).toBe(BIP84_RECEIVE_1);
  });

  it('the mnemonic seed gives the same account key, and its xpub encoding the same addresses', () => {
    expect(withVersion(accountXpub, 0x04b24746)).toBe(BIP84_ZPUB);
    expect(accountXpub.startsWith('xpub')).toBe(true);
    expect(deriveBtcAddress(accountXpub, 0, 'mainnet')).toBe(BIP84_RECEIVE_0);
    expect(deriveBtcAddress(accountXpub, 1, 'mainnet')).toBe(BIP84_RECEIVE_1);
    expect(deriveBtcAddress(withVersion(BIP84_ZPUB, 0x0488b21e), 0, 'mainnet')).toBe(BIP84_RECEIVE_0);
  });

  it('derives testnet addresses from tpub and vpub (m/84\'/1\'/0\')', () => {
    const tpub = HDKey.fromMasterSeed(SEED, TPUB_VERSIONS).derive("m/84'/1'/0'").publicExtendedKey;
    expect(tpub.startsWith('tpub')).toBe(true);
    const first = deriveBtcAddress(tpub, 0, 'testnet');
    // widely published receive address 0 of this mnemonic on testnet (BIP84 m/84'/1'/0'/0/0)
    expect(first).toBe('tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl');
    const vpub = withVersion(tpub, 0x045f1cf6);
    expect(vpub.startsWith('vpub')).toBe(true);
    expect(deriveBtcAddress(vpub, 0, 'testnet')).toBe(first);
  });

  it('produces valid bech32 witness-v0 20-byte programs with the right prefix', () => {
    for (const index of [0, 1, 2, 1000, MAX_ADDRESS_INDEX - 1]) {
      const addr = deriveBtcAddress(BIP84_ZPUB, index, 'mainnet');
      const { prefix, words } = bech32.decode(addr as `${string}1${string}`);
      expect(prefix).toBe('bc');
      expect(words[0]).toBe(0);
      expect(bech32.fromWords(words.slice(1))).toHaveLength(20);
      expect(addr).toMatch(/^bc1q[02-9ac-hj-np-z]{38}$/);
    }
    const distinct = new Set([0, 1, 2, 3, 4].map((i) => deriveBtcAddress(BIP84_ZPUB, i, 'mainnet')));
    expect(distinct.size).toBe(5);
  });

  it('refuses keys of the wrong network or script type', () => {
    const tpub = HDKey.fromMasterSeed(SEED, TPUB_VERSIONS).derive("m/84'/1'/0'").publicExtendedKey;
    expect(() => deriveBtcAddress(tpub, 0, 'mainnet')).toThrow(DepositKeyError);
    expect(() => deriveBtcAddress(BIP84_ZPUB, 0, 'testnet')).toThrow(DepositKeyError);
    const ypub = withVersion(BIP84_ZPUB, 0x049d7cb2); // BIP49 wrapped segwit: other addresses
    expect(() => deriveBtcAddress(ypub, 0, 'mainnet')).toThrow(/must be encoded as xpub or zpub, got ypub/);
  });

  it('refuses private keys, never echoing them', () => {
    const xprv = HDKey.fromMasterSeed(SEED).derive("m/84'/0'/0'").privateExtendedKey;
    let message = '';
    try {
      deriveBtcAddress(xprv, 0, 'mainnet');
    } catch (err) {
      expect(err).toBeInstanceOf(DepositKeyError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/PRIVATE extended key/);
    expect(message).not.toContain(xprv);
  });

  it('refuses keys that are not account-level', () => {
    const master = HDKey.fromMasterSeed(SEED).publicExtendedKey;
    expect(() => deriveBtcAddress(master, 0, 'mainnet')).toThrow(/account-level key.*depth 0/);
    const receiveChain = HDKey.fromMasterSeed(SEED).derive("m/84'/0'/0'/0").publicExtendedKey;
    expect(() => deriveBtcAddress(receiveChain, 0, 'mainnet')).toThrow(/depth 4/);
  });

  it('refuses garbage keys', () => {
    for (const bad of ['', 'xpub', 'not a key', BIP84_ZPUB.slice(0, -1) + 't', 42 as unknown as string]) {
      expect(() => deriveBtcAddress(bad, 0, 'mainnet')).toThrow(DepositKeyError);
    }
  });

  it('validates the index and the network', () => {
    for (const bad of [-1, 1.5, MAX_ADDRESS_INDEX, 2 ** 32, NaN, Infinity, '0' as unknown as number]) {
      expect(() => deriveBtcAddress(BIP84_ZPUB, bad, 'mainnet')).toThrow(RangeError);
    }
    expect(MAX_ADDRESS_INDEX).toBe(2 ** 31);
    expect(() => deriveBtcAddress(BIP84_ZPUB, 0, 'regtest' as 'mainnet')).toThrow(DepositKeyError);
  });

  it('p2wpkhAddress matches the BIP84 vector public key', () => {
    const pub = Buffer.from('0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c', 'hex');
    expect(p2wpkhAddress(pub, 'mainnet')).toBe(BIP84_RECEIVE_0);
    expect(() => p2wpkhAddress(new Uint8Array(65), 'mainnet')).toThrow(RangeError);
  });
});

describe('deriveEthAddress (BIP44 m/44\'/60\'/0\')', () => {
  const ethAccountXpub = HDKey.fromMasterSeed(SEED).derive("m/44'/60'/0'").publicExtendedKey;

  it('matches the published first addresses of the test mnemonic', () => {
    expect(deriveEthAddress(ethAccountXpub, 0)).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
    expect(deriveEthAddress(ethAccountXpub, 1)).toBe('0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0');
  });

  it('agrees with the address of the private key derived along the full path', () => {
    const child = HDKey.fromMasterSeed(SEED).derive("m/44'/60'/0'/0/7");
    expect(deriveEthAddress(ethAccountXpub, 7)).toBe(ethAddressFromPublicKey(child.publicKey!));
  });

  it('returns EIP-55 checksummed 0x addresses', () => {
    for (const i of [0, 1, 2, 99]) {
      const addr = deriveEthAddress(ethAccountXpub, i);
      expect(addr).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(toChecksumAddress(addr.toLowerCase())).toBe(addr);
    }
  });

  it('refuses non-xpub encodings, private keys, non-account keys and bad indexes', () => {
    expect(() => deriveEthAddress(withVersion(ethAccountXpub, 0x04b24746), 0)).toThrow(DepositKeyError);
    expect(() => deriveEthAddress(HDKey.fromMasterSeed(SEED).derive("m/44'/60'/0'").privateExtendedKey, 0)).toThrow(
      /PRIVATE/,
    );
    expect(() => deriveEthAddress(HDKey.fromMasterSeed(SEED).publicExtendedKey, 0)).toThrow(/account-level/);
    expect(() => deriveEthAddress(ethAccountXpub, -1)).toThrow(RangeError);
    expect(() => deriveEthAddress(ethAccountXpub, MAX_ADDRESS_INDEX)).toThrow(RangeError);
  });
});

describe('toChecksumAddress (EIP-55 spec vectors)', () => {
  it.each([
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    '0x52908400098527886E0F7030069857D2E4169EE7',
    '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
    '0xde709f2102306220921060314715629080e2fb77',
    '0x27b1fdb04752bbc536007a920d24acb045561c26',
  ])('%s', (vector) => {
    expect(toChecksumAddress(vector.toLowerCase())).toBe(vector);
    expect(toChecksumAddress(vector.toUpperCase().replace('0X', '0x'))).toBe(vector);
    expect(toChecksumAddress(vector.slice(2))).toBe(vector);
  });

  it('refuses non-addresses', () => {
    for (const bad of ['', '0x', '0x123', '0x' + 'g'.repeat(40), '0x' + 'a'.repeat(41)]) {
      expect(() => toChecksumAddress(bad)).toThrow(RangeError);
    }
  });
});

describe('generateDevelopmentKeys', () => {
  it.each(['mainnet', 'testnet'] as const)('gives public-only account keys with valid, stable addresses (%s)', (network) => {
    const keys = generateDevelopmentKeys(network);
    expect(keys.mnemonicFree).toBe(true);
    expect(Object.keys(keys).sort()).toEqual(['btcXpub', 'ethXpub', 'mnemonicFree']);
    expect(keys.btcXpub.startsWith(network === 'mainnet' ? 'xpub' : 'tpub')).toBe(true);
    expect(keys.ethXpub.startsWith('xpub')).toBe(true);

    for (const k of [keys.btcXpub, keys.ethXpub]) {
      const parsed = HDKey.fromExtendedKey(k, k.startsWith('tpub') ? TPUB_VERSIONS : undefined);
      expect(parsed.privateKey).toBeNull();
      expect(parsed.depth).toBe(3);
    }

    const btc0 = deriveBtcAddress(keys.btcXpub, 0, network);
    expect(btc0).toMatch(network === 'mainnet' ? /^bc1q[02-9ac-hj-np-z]{38}$/ : /^tb1q[02-9ac-hj-np-z]{38}$/);
    expect(deriveBtcAddress(keys.btcXpub, 0, network)).toBe(btc0);
    expect(deriveBtcAddress(keys.btcXpub, 1, network)).not.toBe(btc0);

    const eth0 = deriveEthAddress(keys.ethXpub, 0);
    expect(eth0).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(toChecksumAddress(eth0)).toBe(eth0);
    expect(deriveEthAddress(keys.ethXpub, 0)).toBe(eth0);
    expect(deriveEthAddress(keys.ethXpub, 1)).not.toBe(eth0);
  });

  it('is random on every call', () => {
    const a = generateDevelopmentKeys('mainnet');
    const b = generateDevelopmentKeys('mainnet');
    expect(a.btcXpub).not.toBe(b.btcXpub);
    expect(a.ethXpub).not.toBe(b.ethXpub);
  });

  it('refuses an unknown network', () => {
    expect(() => generateDevelopmentKeys('signet' as 'mainnet')).toThrow(DepositKeyError);
  });
});
