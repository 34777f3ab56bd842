import { describe, expect, it } from 'vitest';
import { compareDecimal, multiplyDecimal, parseDecimal } from './decimal';
import { activeWindow, availableActions, checkAcceptAmount, fiatPreview, newer, offerQuery, roleOf, timeline, type Escrow } from './escrow';

const base: Escrow = {
  id: 'e1',
  offerId: 'o1',
  sellerId: 'S',
  buyerId: 'B',
  asset: 'BTC',
  amount: '0.01',
  fiatCurrency: 'USD',
  fiatAmount: '500.00',
  status: 'awaiting_payment',
  paymentDeadline: '2026-01-01T00:15:00.000Z',
  releaseDeadline: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('decimal', () => {
  it('parses, compares and multiplies exactly', () => {
    expect(parseDecimal('1.50')).toEqual({ units: 150n, scale: 2 });
    expect(parseDecimal('1e5')).toBeNull();
    expect(compareDecimal('0.10', '0.1')).toBe(0);
    expect(compareDecimal('0.000000011', '0.00000001')).toBe(1);
    expect(multiplyDecimal('0.1', '0.2', 2)).toBe('0.02');
    expect(multiplyDecimal('0.025', '50000.5', 2)).toBe('1250.01');
    expect(multiplyDecimal('0.005', '1', 2)).toBe('0.01');
    expect(multiplyDecimal('3', '7', 0)).toBe('21');
  });
});

describe('escrow roles and actions', () => {
  it('knows the caller from the escrow', () => {
    expect(roleOf(base, 'B')).toBe('buyer');
    expect(roleOf(base, 'S')).toBe('seller');
    expect(roleOf(base, 'X')).toBe('observer');
    expect(roleOf(base, undefined)).toBe('observer');
  });

  it('offers only the transitions the contract allows', () => {
    expect(availableActions('awaiting_payment', 'buyer')).toEqual(['confirm', 'cancel']);
    expect(availableActions('awaiting_payment', 'seller')).toEqual([]);
    expect(availableActions('paid', 'seller')).toEqual(['release', 'dispute']);
    expect(availableActions('paid', 'buyer')).toEqual(['dispute']);
    expect(availableActions('disputed', 'seller')).toEqual([]);
    expect(availableActions('released', 'buyer')).toEqual([]);
    expect(availableActions('paid', 'observer')).toEqual([]);
  });
});

describe('windows and timeline', () => {
  it('runs the payment window, then the release window, then none', () => {
    expect(activeWindow(base)).toEqual({ label: 'Payment window closes in', until: base.paymentDeadline });
    const paid = { ...base, status: 'paid' as const, releaseDeadline: '2026-01-01T00:45:00.000Z' };
    expect(activeWindow(paid)?.until).toBe(paid.releaseDeadline);
    expect(activeWindow({ ...base, status: 'released' })).toBeNull();
  });

  it('marks steps done, current and upcoming', () => {
    expect(timeline(base).map((s) => [s.key, s.state])).toEqual([
      ['created', 'done'],
      ['paid', 'current'],
      ['released', 'upcoming'],
    ]);
    const released = { ...base, status: 'released' as const, paidAt: 'p', releasedAt: 'r' };
    expect(timeline(released).map((s) => s.state)).toEqual(['done', 'done', 'done']);
    const refunded = { ...base, status: 'refunded' as const, paidAt: 'p', disputedAt: 'd', refundedAt: 'f' };
    expect(timeline(refunded).map((s) => s.key)).toEqual(['created', 'paid', 'disputed', 'refunded']);
    const timedOut = { ...base, status: 'cancelled' as const, cancelReason: 'payment_timeout' };
    expect(timeline(timedOut)[1].label).toMatch(/payment window ended/);
  });

  it('keeps the newest view of an escrow', () => {
    const later = { ...base, status: 'paid' as const, updatedAt: '2026-01-01T00:05:00.000Z' };
    expect(newer(later, base)).toBe(later);
    expect(newer(base, later)).toBe(later);
    expect(newer(null, base)).toBe(base);
  });
});

describe('offers', () => {
  const offer = { minAmount: '0.001', maxAmount: '0.5', asset: 'BTC' };
  it('checks the amount against the offer limits', () => {
    expect(checkAcceptAmount('0.01', offer)).toBeNull();
    expect(checkAcceptAmount('0.0001', offer)).toMatch(/at least 0.001 BTC/);
    expect(checkAcceptAmount('1', offer)).toMatch(/at most 0.5 BTC/);
    expect(checkAcceptAmount('abc', offer)).toMatch(/positive decimal/);
    expect(checkAcceptAmount('0', offer)).toMatch(/positive decimal/);
  });

  it('previews the fiat amount', () => {
    expect(fiatPreview('0.02', '50000')).toBe('1000.00');
    expect(fiatPreview('x', '1')).toBeNull();
  });

  it('builds the query from the filters that are set', () => {
    expect(offerQuery({ side: 'sell', asset: '', fiatCurrency: 'usd', paymentMethod: ' ', amount: '' })).toEqual({ side: 'sell', fiatCurrency: 'USD' });
    expect(offerQuery({ side: '', asset: '', fiatCurrency: '', paymentMethod: '', amount: '1' })).toEqual({});
    expect(offerQuery({ side: '', asset: 'BTC', fiatCurrency: '', paymentMethod: 'SEPA', amount: '1' })).toEqual({ asset: 'BTC', paymentMethod: 'SEPA', amount: '1' });
  });
});
