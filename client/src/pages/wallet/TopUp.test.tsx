import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TopUp } from './TopUp';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('TopUp', () => {
  it('shows nothing when the server has no payments module (404)', async () => {
    const fetchMock = vi.fn(async () => json(404, { statusCode: 404, message: 'Not Found' }));
    vi.stubGlobal('fetch', fetchMock);
    const { container } = render(<TopUp open={() => undefined} />);
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    await waitFor(() => expect(container.innerHTML).toBe(''));
  });

  it('offers the enabled providers, checks out with an idempotency key and opens the checkout page', async () => {
    const calls: { url: string; init?: RequestInit }[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push({ url, init });
        if (url === '/api/payments/providers')
          return json(200, [
            { provider: 'stripe', kind: 'fiat', assets: ['USD'], enabled: true },
            { provider: 'bitpay', kind: 'crypto', assets: ['USD'], enabled: false },
          ]);
        return json(201, { id: 'p1', status: 'pending', checkoutUrl: 'https://checkout.example/p1' });
      }),
    );
    const open = vi.fn();
    render(<TopUp open={open} />);
    await screen.findByLabelText('Pay with');
    expect(screen.getByText(/Unavailable: BitPay/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Amount (USD)'), { target: { value: '25.50' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue to payment' }));
    await waitFor(() => expect(open).toHaveBeenCalledWith('https://checkout.example/p1'));
    const checkout = calls.find((c) => c.url === '/api/payments/checkout')!;
    expect(JSON.parse(String(checkout.init!.body))).toEqual({ provider: 'stripe', asset: 'USD', amount: '25.50' });
    expect(new Headers(checkout.init!.headers).get('idempotency-key')).toMatch(/.{8,}/);
  });

  it('refuses an amount that is not dollars and cents', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, [{ provider: 'stripe', kind: 'fiat', assets: ['USD'], enabled: true }])));
    render(<TopUp open={() => undefined} />);
    fireEvent.change(await screen.findByLabelText('Amount (USD)'), { target: { value: '1.234' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue to payment' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/number of dollars/);
  });
});
