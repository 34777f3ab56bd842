import type { IncomingHttpHeaders } from 'node:http';
import type { PaymentsConfig } from '../../../core/config/config';
import type { PaymentEventKind } from '../payment.machine';
import type { CheckoutRequest, CheckoutResult, NormalisedEvent, PaymentProvider, StatusReport } from './provider';
import { fetchWithTimeout, fromMinor, header, HttpProvider, hmac, ProviderError, safeEqual, str, toMinor, WebhookRejected } from './provider';

/**
 * CoinPayments (its v1 API, `api.php`) with `fetch`: every call is a form post signed with
 * the `HMAC` header = hex HMAC-SHA512 of the exact body with the private key. IPNs are form
 * posts signed the same way with the IPN secret, and must name our merchant id.
 * Status codes: >= 100 or 2 complete (paid: `amount1`, in USD), 0..99 waiting/confirming,
 * -1 cancelled or timed out (expired), -2 a PayPal refund or reversal.
 */
export class CoinpaymentsProvider extends HttpProvider<PaymentsConfig['coinpayments']> implements PaymentProvider {
  readonly name = 'coinpayments' as const;
  readonly kind = 'crypto' as const;

  constructor(cfg: PaymentsConfig['coinpayments'], timeoutMs: number) {
    super(cfg, timeoutMs, ['publicKey', 'privateKey', 'merchantId', 'ipnSecret']);
  }

  private async api(cmd: string, params: Record<string, string>, what: string): Promise<any> {
    const body = new URLSearchParams({ version: '1', cmd, key: this.cfg.publicKey!, format: 'json', ...params }).toString();
    const res = await fetchWithTimeout(
      `${this.cfg.apiBase}/api.php`,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', hmac: hmac('sha512', this.cfg.privateKey!, body) }, body },
      this.timeoutMs,
      what,
    );
    const json: any = await res.json().catch(() => null);
    if (!res.ok || !json || typeof json !== 'object') throw new ProviderError(`${what}: the provider answered ${res.status}`, res.status === 503);
    if (json.error !== 'ok') throw new ProviderError(`${what}: ${String(json.error ?? 'error').slice(0, 200)}`);
    return json.result ?? {};
  }

  async createCheckout(req: CheckoutRequest): Promise<CheckoutResult> {
    const r = await this.api(
      'create_transaction',
      {
        amount: fromMinor(req.amountMinor),
        currency1: 'USD',
        currency2: this.cfg.coin,
        buyer_email: `${req.userId}@users.softchat.invalid`,
        item_name: req.description,
        invoice: req.paymentId,
        custom: req.paymentId,
        ipn_url: req.webhookUrl,
        success_url: req.returnUrl,
        cancel_url: req.cancelUrl,
      },
      'CoinPayments create_transaction',
    );
    const url = r.checkout_url ?? r.status_url;
    if (typeof r.txn_id !== 'string' || typeof url !== 'string') throw new ProviderError('CoinPayments create_transaction: no txn_id or checkout_url');
    return { providerRef: r.txn_id, checkoutUrl: url, clientSecret: null };
  }

  async verifyAndParseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): Promise<NormalisedEvent> {
    const sig = header(headers, 'hmac');
    if (!sig || !safeEqual(sig.toLowerCase(), hmac('sha512', this.cfg.ipnSecret!, rawBody))) throw new WebhookRejected('HMAC header is missing or wrong');
    const f = new URLSearchParams(rawBody.toString('utf8'));
    if (f.get('ipn_mode') !== 'hmac') throw new WebhookRejected('ipn_mode must be hmac');
    if (f.get('merchant') !== this.cfg.merchantId) throw new WebhookRejected('The IPN is for another merchant');
    const ipnId = str(f.get('ipn_id'));
    const txnId = str(f.get('txn_id'));
    if (!ipnId || !txnId) throw new WebhookRejected('IPN without ipn_id or txn_id');
    if (f.get('ipn_type') !== 'api' && f.get('ipn_type') !== 'simple') {
      return { kind: 'ignored', providerEventId: ipnId, providerRef: txnId, amountMinor: null, currency: null };
    }
    const s = this.fromStatus(Number(f.get('status')), f.get('amount1'), f.get('currency1'));
    return { ...s, providerEventId: ipnId, providerRef: txnId, paymentId: str(f.get('custom')) };
  }

  private fromStatus(status: number, amount1: unknown, currency1: string | null): StatusReport & { kind: PaymentEventKind } {
    if (!Number.isInteger(status)) return { kind: 'pending', amountMinor: null, currency: null };
    if (status >= 100 || status === 2) return { kind: 'paid', amountMinor: toMinor(amount1), currency: currency1 };
    if (status === -1) return { kind: 'expired', amountMinor: null, currency: null };
    if (status === -2) return { kind: 'refunded', amountMinor: toMinor(amount1), currency: currency1 };
    if (status < 0) return { kind: 'failed', amountMinor: null, currency: null };
    return { kind: 'pending', amountMinor: null, currency: null };
  }

  async fetchStatus(ref: string): Promise<StatusReport> {
    const r = await this.api('get_tx_info', { txid: ref }, 'CoinPayments get_tx_info');
    // get_tx_info reports amounts in the coin only: a complete transaction was paid in full (amount null = as checked out).
    const s = this.fromStatus(Number(r.status), null, null);
    return s;
  }
}
