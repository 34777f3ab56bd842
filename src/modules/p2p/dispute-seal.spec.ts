import { canonicalSealPayload, checkEvidence, sealDispute, SealInput } from './dispute-seal';

const base: SealInput = {
  escrow: { id: 'e1', sellerId: 's', buyerId: 'b', asset: 'BTC', amount: '0.01000000', fiatCurrency: 'USD', fiatAmount: '650.00', paymentMethod: 'SEPA' },
  dispute: { openedBy: 'b', openedByRole: 'buyer', reason: 'paid, not released', evidence: ['https://example.com/receipt.png'] },
  chatRoomId: 'r1',
  messages: [
    { seq: 1, senderId: 'b', content: 'sent the money', createdAt: '2025-01-01T00:00:00.000Z' },
    { seq: 2, senderId: 's', content: 'not received', createdAt: '2025-01-01T00:01:00.000Z' },
  ],
};

describe('dispute seal', () => {
  it('is a stable SHA-256 over a canonical form', () => {
    const h = sealDispute(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(sealDispute({ ...base, messages: [...base.messages].reverse() })).toBe(h);
    expect(canonicalSealPayload(base)).toContain('softchat.p2p.dispute.v1');
  });

  it('changes when anything sealed changes', () => {
    const h = sealDispute(base);
    expect(sealDispute({ ...base, messages: [{ ...base.messages[0], content: 'sent the money!' }, base.messages[1]] })).not.toBe(h);
    expect(sealDispute({ ...base, messages: base.messages.slice(0, 1) })).not.toBe(h);
    expect(sealDispute({ ...base, dispute: { ...base.dispute, evidence: [] } })).not.toBe(h);
    expect(sealDispute({ ...base, dispute: { ...base.dispute, reason: 'other' } })).not.toBe(h);
    expect(sealDispute({ ...base, escrow: { ...base.escrow, amount: '0.02000000' } })).not.toBe(h);
  });

  it('accepts http(s) evidence URLs only', () => {
    expect(checkEvidence(undefined)).toEqual({ ok: true, urls: [] });
    expect(checkEvidence(['https://x.test/a.png', 'http://y.test/b'])).toEqual({ ok: true, urls: ['https://x.test/a.png', 'http://y.test/b'] });
    expect(checkEvidence(['javascript:alert(1)'])).toMatchObject({ ok: false, message: 'evidence[0] must be an http(s) URL' });
    expect(checkEvidence(['not a url'])).toMatchObject({ ok: false });
    expect(checkEvidence('https://x.test')).toMatchObject({ ok: false });
    expect(checkEvidence(Array.from({ length: 11 }, (_, i) => `https://x.test/${i}`))).toMatchObject({ ok: false });
  });
});
