import { DomainError } from '../../core/http/domain-error';
import { checkBuyerLimits, NewEscrow, pickPaymentMethod, sameTerms } from './escrow.rules';
import type { EscrowRow } from './p2p.views';

const thrown = (fn: () => unknown): DomainError => {
  try {
    fn();
  } catch (e) {
    return e as DomainError;
  }
  throw new Error('expected a DomainError');
};

describe('escrow rules', () => {
  it('picks the offer method case-insensitively, or its only one', () => {
    expect(pickPaymentMethod(['SEPA', 'Revolut'], ' revolut ')).toBe('Revolut');
    expect(pickPaymentMethod(['SEPA'], undefined)).toBe('SEPA');
    expect(thrown(() => pickPaymentMethod(['SEPA', 'Revolut'], undefined)).message).toMatch(/paymentMethod is required/);
    expect(thrown(() => pickPaymentMethod(['SEPA'], 'Wise')).message).toMatch(/paymentMethod must be one of/);
  });

  it('refuses buyers at their open or cancellation limit, naming the reason', () => {
    const limits = { maxOpenEscrowsPerBuyer: 2, maxCancellationsPerDay: 3 };
    expect(() => checkBuyerLimits({ open: 1, abandoned: 2 }, limits)).not.toThrow();
    expect(thrown(() => checkBuyerLimits({ open: 2, abandoned: 0 }, limits)).details).toMatchObject({ reason: 'too_many_open_escrows', limit: 2 });
    expect(thrown(() => checkBuyerLimits({ open: 0, abandoned: 3 }, limits)).details).toMatchObject({ reason: 'too_many_cancellations', limit: 3 });
  });

  it('treats a replay as the same escrow only with the same terms', () => {
    const n: NewEscrow = {
      createdBy: 'b',
      creatorRole: 'buyer',
      creationKey: 'k',
      offerId: 'o',
      sellerId: 's',
      buyerId: 'b',
      asset: 'BTC',
      amount: 1000n,
      priceE8: null,
      fiatCurrency: 'EUR',
      fiatCents: 1234n,
      paymentMethod: 'SEPA',
      windowSeconds: 900,
    };
    const prev = {
      offer_id: 'o',
      seller_id: 's',
      buyer_id: 'b',
      asset: 'BTC',
      amount: '1000',
      fiat_currency: 'EUR',
      fiat_amount: '12.34',
      payment_method: 'SEPA',
      payment_window_seconds: 900,
    } as unknown as EscrowRow;
    expect(sameTerms(prev, n)).toBe(true);
    expect(sameTerms(prev, { ...n, amount: 1001n })).toBe(false);
    expect(sameTerms(prev, { ...n, paymentMethod: 'Wise' })).toBe(false);
  });
});
