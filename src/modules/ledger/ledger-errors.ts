import { DomainError } from '../../core/http/domain-error';
import type { AssetSymbol } from './assets';
import { formatAmount } from './money';

export class InsufficientFundsError extends DomainError {
  constructor(asset: AssetSymbol, needed: bigint) {
    super('INSUFFICIENT_FUNDS', `Insufficient ${asset} balance: ${formatAmount(needed, asset)} ${asset} needed`, {
      asset,
      needed: formatAmount(needed, asset),
    });
  }
}
