// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

// REST is replaced so the test can fail the first attempt; the form itself is real.
const sent: { path: string; body: unknown; key?: string }[] = [];
let failNext = true;
vi.mock('../../lib/api', async (orig) => {
  const real = await orig<typeof import('../../lib/api')>();
  return {
    ...real,
    api: vi.fn(async (path: string, opts: { body: { asset: string; amount: string }; idempotencyKey?: string }) => {
      sent.push({ path, body: opts.body, key: opts.idempotencyKey });
      if (failNext) {
        failNext = false;
        throw new Error('network down');
      }
      return { id: 't1', asset: opts.body.asset, amount: opts.body.amount };
    }),
  };
});

const { TipForm } = await import('./TipForm');
afterEach(cleanup);

describe('TipForm', () => {
  it('asks for confirmation, retries with the same idempotency key, and uses a new key for the next tip', async () => {
    render(<TipForm creatorId="c1" username="carol" />);
    fireEvent.change(screen.getByLabelText('Tip amount'), { target: { value: '-1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Review tip' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/positive/);
    expect(sent).toHaveLength(0);

    fireEvent.change(screen.getByLabelText('Tip asset'), { target: { value: 'SOFT' } });
    fireEvent.change(screen.getByLabelText('Tip amount'), { target: { value: '2.5' } });
    fireEvent.change(screen.getByLabelText('Tip message'), { target: { value: 'gg' } });
    fireEvent.click(screen.getByRole('button', { name: 'Review tip' }));
    await screen.findByText(/to carol with “gg”\?/);
    expect(sent).toHaveLength(0); // nothing moves before the confirmation

    fireEvent.click(screen.getByRole('button', { name: 'Confirm tip' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/network down/);
    fireEvent.click(screen.getByRole('button', { name: 'Confirm tip' }));
    await screen.findByRole('button', { name: 'Review tip' });
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual({ path: '/creator/c1/tips', body: { asset: 'SOFT', amount: '2.5', message: 'gg' }, key: sent[1].key });
    expect(sent[0].key).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Tip amount'), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Review tip' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Confirm tip' }));
    await screen.findByRole('button', { name: 'Review tip' });
    expect(sent[2].key).not.toBe(sent[0].key);
  });
});
