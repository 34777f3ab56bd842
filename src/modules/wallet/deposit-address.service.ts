import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { WalletRepository } from './wallet.repository';
import { deriveBtcAddress, deriveEthAddress, generateDevelopmentKeys } from './addresses';

export interface DepositAddress {
  asset: 'BTC' | 'ETH' | 'USDT';
  network: string;
  address: string;
}

/**
 * Stable deposit addresses: each user gets a sequential BIP32 child index once, and the
 * addresses are derived from account-level extended public keys (BTC_XPUB, ETH_XPUB). Without
 * them a development key pair is generated once, stored in the database (so every instance
 * and every restart agrees), and a warning is logged. Only public keys are ever held here.
 */
@Injectable()
export class DepositAddressService implements OnApplicationBootstrap {
  private readonly logger = new Logger('DepositAddresses');
  private keys?: { btcXpub: string; ethXpub: string };

  constructor(
    private readonly repo: WalletRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap() {
    this.keys = await this.resolveKeys();
    // A misconfigured key fails the start, not a user's first request.
    deriveBtcAddress(this.keys.btcXpub, 0, this.config.wallet.btcNetwork);
    deriveEthAddress(this.keys.ethXpub, 0);
  }

  private async resolveKeys(): Promise<{ btcXpub: string; ethXpub: string }> {
    const { btcXpub, ethXpub, btcNetwork } = this.config.wallet;
    if (btcXpub && ethXpub) return { btcXpub, ethXpub };
    const settingKey = `wallet.dev-keys.${btcNetwork}`;
    const generated = generateDevelopmentKeys(btcNetwork);
    const stored = await this.repo.settingOnce(settingKey, { btcXpub: generated.btcXpub, ethXpub: generated.ethXpub });
    this.logger.warn(
      `${btcXpub ? '' : 'BTC_XPUB '}${ethXpub ? '' : 'ETH_XPUB '}not set: deposit addresses come from a development key stored in system_settings. Set real account xpubs in production.`,
    );
    return { btcXpub: btcXpub ?? stored.btcXpub, ethXpub: ethXpub ?? stored.ethXpub };
  }

  async addressesFor(userId: string): Promise<DepositAddress[]> {
    const index = await this.repo.addressIndex(userId);
    const keys = this.keys!;
    const eth = deriveEthAddress(keys.ethXpub, index);
    const btcNetwork = this.config.wallet.btcNetwork === 'testnet' ? 'bitcoin-testnet' : 'bitcoin';
    return [
      { asset: 'BTC', network: btcNetwork, address: deriveBtcAddress(keys.btcXpub, index, this.config.wallet.btcNetwork) },
      { asset: 'ETH', network: 'ethereum', address: eth },
      { asset: 'USDT', network: 'ethereum', address: eth },
    ];
  }
}
