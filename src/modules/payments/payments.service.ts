import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { badGateway, badRequest, conflict, notFound, serviceUnavailable } from '../../core/http/domain-error';
import { Page } from '../../core/http/pagination';
import { formatAmount, parseAmount } from '../ledger/money';
import { PaymentSettlementService } from './payment-settlement.service';
import { PaymentsAnnouncer } from './payments.announcer';
import { isUuid, PaymentsRepository } from './payments.repository';
import { PaymentView, toPaymentView } from './payments.views';
import { PaymentProviders } from './providers/registry';
import { isProviderName, ProviderError, ProviderInfo, ProviderName } from './providers/provider';
import type { AdminPaymentsQueryDto, CheckoutDto, PaymentsQueryDto } from './dto/payments.dto';

/**
 * Checkouts and reads. A checkout is stored `pending` before the provider is called (so a
 * crash in between leaves a record the reconciler can expire), then gets the provider's
 * reference and URL; a provider failure marks it `failed` and answers 502/503, never 500.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('Payments');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: PaymentsRepository,
    private readonly providers: PaymentProviders,
    private readonly announcer: PaymentsAnnouncer,
    private readonly settlement: PaymentSettlementService,
  ) {}

  listProviders(): ProviderInfo[] {
    return this.providers.list();
  }

  async checkout(user: AuthUser, dto: CheckoutDto, idempotencyKey?: string): Promise<PaymentView> {
    if (!isProviderName(dto.provider)) throw badRequest(`provider must be one of ${this.providers.list().map((p) => p.provider).join(', ')}`);
    if (dto.asset !== 'USD') throw badRequest('asset must be USD: every checkout is priced in and credits USD');
    const amount = parseAmount(dto.amount, 'USD', 'amount');
    const { minAmountMinor: lo, maxAmountMinor: hi } = this.config.payments;
    if (amount < lo || amount > hi) throw badRequest(`amount must be between ${formatAmount(lo, 'USD')} and ${formatAmount(hi, 'USD')} USD`);
    const provider = this.providers.get(dto.provider);
    if (!provider.enabled) throw serviceUnavailable(`${dto.provider} is not available: its keys are not configured`);

    const pc = this.config.payments;
    const { row, created } = await this.repo.insertPending({
      userId: user.id,
      provider: dto.provider,
      amount,
      creationKey: idempotencyKey ? `${user.id}:${idempotencyKey}` : null,
      expiresAt: new Date(Date.now() + pc.checkoutExpiryMinutes * 60_000),
    });
    if (!created) {
      if (row.provider !== dto.provider || BigInt(row.amount) !== amount) throw conflict('Idempotency-Key was already used for another checkout');
      return toPaymentView(row);
    }
    try {
      const res = await provider.createCheckout({
        paymentId: row.id,
        userId: user.id,
        amountMinor: amount,
        currency: 'USD',
        description: `Softchat wallet top-up ${formatAmount(amount, 'USD')} USD`,
        returnUrl: `${pc.returnUrl}${pc.returnUrl.includes('?') ? '&' : '?'}payment=${row.id}`,
        cancelUrl: `${pc.returnUrl}${pc.returnUrl.includes('?') ? '&' : '?'}payment=${row.id}&cancelled=1`,
        webhookUrl: `${pc.webhookBaseUrl}/api/payments/webhooks/${dto.provider}`,
        expiresAt: row.expires_at,
      });
      await this.repo.recordCheckout(row.id, { ...res, clientSecret: res.clientSecret ?? null });
      // An event may have named this reference before we stored it (a very fast provider).
      await this.settlement.adopt(row.id);
      return toPaymentView((await this.repo.byId(row.id))!);
    } catch (e) {
      const unavailable = e instanceof ProviderError ? e.unavailable : false;
      const reason = e instanceof ProviderError ? e.message : 'The provider call failed';
      if (!(e instanceof ProviderError)) this.logger.error({ err: e }, `checkout ${row.id} through ${dto.provider} failed`);
      const failed = await this.repo.markFailed(row.id, reason);
      await this.announcer.announce(toPaymentView(failed));
      throw unavailable ? serviceUnavailable(`${dto.provider} is unavailable; try again later`) : badGateway(`${dto.provider} refused or failed the checkout`);
    }
  }

  /** The payment if the caller owns it or is an admin; 404 otherwise, whether or not it exists. */
  async get(user: AuthUser, id: string): Promise<PaymentView> {
    const row = isUuid(id) ? await this.repo.byId(id) : null;
    if (!row || (row.user_id !== user.id && !isAdmin(user))) throw notFound('Payment not found');
    const view = toPaymentView(row);
    // The client secret is the payer's alone.
    return row.user_id === user.id ? view : { ...view, clientSecret: null };
  }

  listMine(user: AuthUser, q: PaymentsQueryDto): Promise<Page<PaymentView>> {
    return this.repo.page({ userId: user.id, status: q.status }, q);
  }

  async listAll(q: AdminPaymentsQueryDto): Promise<Page<PaymentView>> {
    const page = await this.repo.page({ status: q.status, provider: q.provider, userId: q.userId }, q);
    return { ...page, items: page.items.map((p) => ({ ...p, clientSecret: null })) };
  }

  /**
   * Asks providers about pending payments older than `reconcileAfterMinutes` and settles them
   * as a webhook would; those still not paid after their expiry become `expired`.
   */
  async reconcile(opts: { batch?: number; afterMinutes?: number } = {}): Promise<{ checked: number; settled: number; expired: number; errors: number }> {
    const rows = await this.repo.duePending(opts.afterMinutes ?? this.config.payments.reconcileAfterMinutes, opts.batch ?? 100);
    const out = { checked: 0, settled: 0, expired: 0, errors: 0 };
    for (const row of rows) {
      const r = await this.reconcileOne(row.id).catch((e) => {
        this.logger.warn(`reconcile ${row.id} (${row.provider}) failed: ${(e as Error).message}`);
        return 'error' as const;
      });
      out.checked += 1;
      if (r === 'error') out.errors += 1;
      else if (r === 'expired') out.expired += 1;
      else if (r !== 'pending') out.settled += 1;
    }
    return out;
  }

  /** One pending payment: ask its provider, apply the answer; expire it when its time is up. */
  async reconcileOne(paymentId: string): Promise<string> {
    const row = await this.repo.byId(paymentId);
    if (!row || row.status !== 'pending') return row?.status ?? 'missing';
    const provider = this.providers.get(row.provider as ProviderName);
    let kind = 'pending';
    if (row.provider_ref && provider.enabled) {
      try {
        const s = await provider.fetchStatus(row.provider_ref);
        const amountTag = s.amountMinor === null ? 'full' : s.amountMinor.toString();
        const r = await this.settlement.apply(
          row.provider,
          { ...s, providerEventId: `reconcile:${row.id}:${s.kind}:${amountTag}`, providerRef: row.provider_ref, paymentId: row.id },
          'reconcile',
        );
        kind = s.kind;
        if (r.outcome === 'duplicate') kind = (await this.repo.byId(row.id))?.status ?? kind;
      } finally {
        await this.repo.touchChecked(row.id);
      }
    }
    const now = await this.repo.byId(row.id);
    if (now?.status === 'pending' && now.expires_at.getTime() <= Date.now() && kind !== 'paid') {
      await this.settlement.apply(row.provider, { kind: 'expired', providerEventId: `expiry:${row.id}`, providerRef: row.provider_ref, paymentId: row.id, amountMinor: null, currency: null }, 'reconcile');
      return 'expired';
    }
    return now?.status ?? kind;
  }
}
