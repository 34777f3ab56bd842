/**
 * Deposit-address derivation from account-level extended PUBLIC keys (watch-only).
 * The server never needs, and never accepts, a private key for this.
 *
 * - Bitcoin: BIP84 native segwit P2WPKH (bech32, witness v0): account key m/84'/0'/0'
 *   (mainnet) or m/84'/1'/0' (testnet), address = child 0/index.
 * - Ethereum (and ERC-20 tokens such as USDT): BIP44 account key m/44'/60'/0',
 *   address = child 0/index, EIP-55 checksummed.
 *
 * Pure functions over @scure/bip32, @scure/base and @noble/*: no database, no Nest.
 */
import { randomBytes } from 'crypto';
import { HDKey, HARDENED_OFFSET, Versions } from '@scure/bip32';
import { bech32, createBase58check } from '@scure/base';
import { secp256k1 } from '@noble/curves/secp256k1';
import { ripemd160 } from '@noble/hashes/legacy';
import { sha256 } from '@noble/hashes/sha2';
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

export type BtcNetwork = 'mainnet' | 'testnet';

/** A deposit key that cannot be used: wrong encoding, private key, wrong network, wrong depth. */
export class DepositKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DepositKeyError';
  }
}

/** Exclusive upper bound of a non-hardened child index: 2^31. */
export const MAX_ADDRESS_INDEX = HARDENED_OFFSET; // 0x80000000

/** BIP32 / SLIP-132 version bytes of the extended-key encodings we know. */
const VERSIONS = {
  xpub: { public: 0x0488b21e, private: 0x0488ade4 }, // xpub / xprv (mainnet, generic)
  tpub: { public: 0x043587cf, private: 0x04358394 }, // tpub / tprv (testnet, generic)
  ypub: { public: 0x049d7cb2, private: 0x049d7878 }, // ypub / yprv (BIP49, P2SH-P2WPKH)
  upub: { public: 0x044a5262, private: 0x044a4e28 }, // upub / uprv (BIP49 testnet)
  zpub: { public: 0x04b24746, private: 0x04b2430c }, // zpub / zprv (BIP84, P2WPKH)
  vpub: { public: 0x045f1cf6, private: 0x045f18bc }, // vpub / vprv (BIP84 testnet)
} as const satisfies Record<string, Versions>;

type Encoding = keyof typeof VERSIONS;

/** Encodings acceptable for a BIP84 account key, per network. ypub/upub (BIP49) are refused: other script type. */
const BTC_ENCODINGS: Record<BtcNetwork, readonly Encoding[]> = {
  mainnet: ['xpub', 'zpub'],
  testnet: ['tpub', 'vpub'],
};
/** Ethereum has no SLIP-132 convention: account keys are exported as xpub. */
const ETH_ENCODINGS: readonly Encoding[] = ['xpub'];

const base58check = createBase58check(sha256);

/** Depth of an account-level key (m / purpose' / coin' / account'). */
const ACCOUNT_DEPTH = 3;
/** External (receive) chain. */
const RECEIVE_CHAIN = 0;

function assertNetwork(network: unknown): asserts network is BtcNetwork {
  if (network !== 'mainnet' && network !== 'testnet') {
    throw new DepositKeyError(`bitcoin network must be "mainnet" or "testnet", got ${JSON.stringify(String(network))}`);
  }
}

function assertIndex(index: unknown): asserts index is number {
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= MAX_ADDRESS_INDEX) {
    throw new RangeError(`address index must be an integer with 0 <= index < 2^31, got ${String(index)}`);
  }
}

/**
 * Decode an account-level extended public key, checking its encoding is one of `allowed`,
 * that it is public (never a private key), and that it sits at account depth under a hardened index.
 */
function parseAccountKey(extendedKey: unknown, allowed: readonly Encoding[], what: string): HDKey {
  if (typeof extendedKey !== 'string' || extendedKey.length === 0) {
    throw new DepositKeyError(`${what} must be a non-empty extended public key string`);
  }
  let raw: Uint8Array;
  try {
    raw = base58check.decode(extendedKey.trim());
  } catch {
    throw new DepositKeyError(`${what} is not a valid base58check extended key`);
  }
  if (raw.length !== 78) {
    throw new DepositKeyError(`${what} is not a valid extended key (wrong length)`);
  }
  const version = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;

  const privateEncoding = (Object.keys(VERSIONS) as Encoding[]).find((e) => VERSIONS[e].private === version);
  if (privateEncoding || raw[45] === 0) {
    // Say nothing about the key itself: it is a secret that should not be on this server at all.
    throw new DepositKeyError(`${what} is a PRIVATE extended key; configure only the account's extended public key`);
  }
  const encoding = (Object.keys(VERSIONS) as Encoding[]).find((e) => VERSIONS[e].public === version);
  if (!encoding || !allowed.includes(encoding)) {
    const got = encoding ?? `version 0x${version.toString(16).padStart(8, '0')}`;
    throw new DepositKeyError(`${what} must be encoded as ${allowed.join(' or ')}, got ${got}`);
  }

  let key: HDKey;
  try {
    key = HDKey.fromExtendedKey(extendedKey.trim(), VERSIONS[encoding]);
  } catch (err) {
    throw new DepositKeyError(`${what} is not a valid extended public key (${(err as Error).message})`);
  }
  if (key.privateKey !== null || !key.publicKey) {
    throw new DepositKeyError(`${what} must be an extended public key`);
  }
  if (key.depth !== ACCOUNT_DEPTH || key.index < HARDENED_OFFSET) {
    throw new DepositKeyError(
      `${what} must be an account-level key (depth ${ACCOUNT_DEPTH}, hardened account index), got depth ${key.depth}`,
    );
  }
  return key;
}

function receivePublicKey(account: HDKey, index: number): Uint8Array {
  const child = account.deriveChild(RECEIVE_CHAIN).deriveChild(index);
  if (!child.publicKey) throw new Error('derived key has no public key');
  return child.publicKey; // 33-byte compressed SEC1
}

/** Bech32 (BIP173) P2WPKH address of a 33-byte compressed public key. */
export function p2wpkhAddress(compressedPublicKey: Uint8Array, network: BtcNetwork): string {
  assertNetwork(network);
  if (compressedPublicKey.length !== 33 || (compressedPublicKey[0] !== 2 && compressedPublicKey[0] !== 3)) {
    throw new RangeError('P2WPKH needs a 33-byte compressed public key');
  }
  const hash160 = ripemd160(sha256(compressedPublicKey));
  const words = bech32.toWords(hash160);
  return bech32.encode(network === 'mainnet' ? 'bc' : 'tb', [0, ...words]);
}

/**
 * BIP84 native segwit deposit address (`bc1q...` / `tb1q...`) for receive index `index`
 * under the account key `xpub` (m/84'/0'/0' mainnet, m/84'/1'/0' testnet).
 * Accepts xpub/zpub on mainnet and tpub/vpub on testnet; refuses private keys and non-account keys.
 */
export function deriveBtcAddress(xpub: string, index: number, network: BtcNetwork): string {
  assertNetwork(network);
  assertIndex(index);
  const account = parseAccountKey(xpub, BTC_ENCODINGS[network], `BTC ${network} account key`);
  return p2wpkhAddress(receivePublicKey(account, index), network);
}

/**
 * EIP-55 mixed-case checksum of a 20-byte hex address (with or without `0x`, any case).
 * Throws a `RangeError` for anything that is not 40 hex digits.
 */
export function toChecksumAddress(address: string): string {
  if (typeof address !== 'string' || !/^(0x)?[0-9a-fA-F]{40}$/.test(address)) {
    throw new RangeError('an Ethereum address is 20 bytes: 40 hex digits with an optional 0x prefix');
  }
  const lower = address.replace(/^0x/, '').toLowerCase();
  const hash = bytesToHex(keccak_256(utf8ToBytes(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  }
  return out;
}

/** EIP-55 address of a secp256k1 public key (compressed or uncompressed SEC1 bytes). */
export function ethAddressFromPublicKey(publicKey: Uint8Array): string {
  const uncompressed = secp256k1.ProjectivePoint.fromHex(publicKey).toRawBytes(false); // 0x04 || X || Y
  const digest = keccak_256(uncompressed.subarray(1));
  return toChecksumAddress(bytesToHex(digest.subarray(12)));
}

/**
 * Ethereum deposit address (EIP-55 `0x...`) for receive index `index` under the BIP44
 * account key m/44'/60'/0' (`xpub` encoding). Also the USDT (ERC-20) deposit address.
 */
export function deriveEthAddress(xpub: string, index: number): string {
  assertIndex(index);
  const account = parseAccountKey(xpub, ETH_ENCODINGS, 'ETH account key');
  return ethAddressFromPublicKey(receivePublicKey(account, index));
}

/**
 * Fresh random development deposit keys. A random 32-byte seed is used once to derive the
 * account keys m/84'/0'/0' (m/84'/1'/0' on testnet, tpub-encoded) and m/44'/60'/0', then wiped:
 * only the extended PUBLIC keys are returned, so the server holds nothing spendable
 * (and nobody can ever spend what is sent to these addresses: development only).
 */
export function generateDevelopmentKeys(network: BtcNetwork): { btcXpub: string; ethXpub: string; mnemonicFree: true } {
  assertNetwork(network);
  const seed = new Uint8Array(randomBytes(32));
  const keys: HDKey[] = [];
  try {
    const btcMaster = HDKey.fromMasterSeed(seed, network === 'mainnet' ? VERSIONS.xpub : VERSIONS.tpub);
    const ethMaster = HDKey.fromMasterSeed(seed, VERSIONS.xpub);
    keys.push(btcMaster, ethMaster);
    const btcAccount = btcMaster.derive(network === 'mainnet' ? "m/84'/0'/0'" : "m/84'/1'/0'");
    const ethAccount = ethMaster.derive("m/44'/60'/0'");
    keys.push(btcAccount, ethAccount);
    return { btcXpub: btcAccount.publicExtendedKey, ethXpub: ethAccount.publicExtendedKey, mnemonicFree: true };
  } finally {
    seed.fill(0);
    for (const k of keys) k.wipePrivateData();
  }
}
