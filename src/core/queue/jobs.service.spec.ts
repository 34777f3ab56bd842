import { catalogueMismatch } from './jobs.service';

describe('job catalogue check', () => {
  const catalogue = { mail: ['send', 'bounce'], payouts: ['pay'] } as const;

  it('passes when every job has exactly the handlers listed', () => {
    expect(catalogueMismatch(catalogue, ['mail/send', 'mail/bounce', 'payouts/pay'])).toBeNull();
  });

  it('names jobs without a handler', () => {
    expect(catalogueMismatch(catalogue, ['mail/send', 'payouts/pay'])).toBe('Job catalogue mismatch: no handler for mail/bounce');
  });

  it('names handlers for jobs that are not in the catalogue', () => {
    expect(catalogueMismatch(catalogue, ['mail/send', 'mail/bounce', 'payouts/pay', 'payouts/refund'])).toBe(
      'Job catalogue mismatch: handlers for jobs not in the catalogue: payouts/refund',
    );
  });
});
