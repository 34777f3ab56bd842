import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../../core/config/config';
import { BitpayProvider } from './bitpay.provider';
import { CoinbaseCommerceProvider } from './coinbase-commerce.provider';
import { CoinpaymentsProvider } from './coinpayments.provider';
import { FlutterwaveProvider } from './flutterwave.provider';
import { PaypalProvider } from './paypal.provider';
import { PaymentProvider, PROVIDER_NAMES, ProviderInfo, ProviderName } from './provider';
import { StripeProvider } from './stripe.provider';

/** The six adapters, built once from the configuration; each is enabled only when its keys are set. */
@Injectable()
export class PaymentProviders {
  private readonly byName: Record<ProviderName, PaymentProvider>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const p = config.payments;
    const t = p.requestTimeoutMs;
    this.byName = {
      stripe: new StripeProvider(p.stripe, t),
      paypal: new PaypalProvider(p.paypal, t),
      flutterwave: new FlutterwaveProvider(p.flutterwave, t),
      coinbase_commerce: new CoinbaseCommerceProvider(p.coinbaseCommerce, t),
      bitpay: new BitpayProvider(p.bitpay, t),
      coinpayments: new CoinpaymentsProvider(p.coinpayments, t),
    };
  }

  get(name: ProviderName): PaymentProvider {
    return this.byName[name];
  }

  list(): ProviderInfo[] {
    return PROVIDER_NAMES.map((n) => ({ provider: n, kind: this.byName[n].kind, assets: ['USD'], enabled: this.byName[n].enabled }));
  }
}
