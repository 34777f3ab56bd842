import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { pgCode } from '../../core/database/transaction';
import { DomainError, badRequest, notFound } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { AssetSymbol, isAssetSymbol } from '../ledger/assets';
import { feeFor, formatAmount, parseAmount } from '../ledger/money';
import { keyToken } from '../../core/http/idempotency';
import { LedgerService } from '../ledger/ledger.service';
import { BalanceView, toBalanceView } from '../ledger/ledger.events';
import { UsersService } from '../users/users.service';
import type { DepositDto, TransferDto } from './dto/wallet.dto';

export interface TransactionView {
  id: string;
  type: string;
  asset: AssetSymbol;
  amount: string;
  balanceAfter: string;
  counterpartyId: string | null;
  reference: string | null;
  note: string | null;
  createdAt: string;
}

export interface TransferView {
  id: string;
  transactionId: string;
  fromUserId: string;
  toUserId: string;
  asset: AssetSymbol;
  amount: string;
  fee: string;
  note: string | null;
  status: 'completed';
  createdAt: string;
}

function asset(raw: string): AssetSymbol {
  if (!isAssetSymbol(raw)) throw badRequest('asset is not supported');
  return raw;
}

@Injectable()
export class WalletService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly users: UsersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async balance(userId: string): Promise<{ userId: string; balances: BalanceView[] }> {
    const balances = await this.ledger.balances(userId);
    return {
      userId,
      balances: balances.map((b) => toBalanceView(b.asset, { posted: b.total.toString(), held: b.held.toString() })),
    };
  }

  /** Posted movements, newest first: the amounts sum to the total balance of each asset. */
  async transactions(userId: string, q: { asset?: string; limit?: unknown; cursor?: unknown }): Promise<Page<TransactionView>> {
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, (v): v is string => typeof v === 'string' && /^\d{1,19}$/.test(v));
    const rows = await this.ledger.history(userId, { asset: q.asset ? asset(q.asset) : undefined, before: cursor, limit: limit + 1 });
    return toPage(
      rows,
      limit,
      (r): TransactionView => ({
        id: r.transferId,
        type: r.kind,
        asset: r.asset,
        amount: formatAmount(r.amount, r.asset),
        balanceAfter: formatAmount(r.balanceAfter, r.asset),
        counterpartyId: r.counterpartyId,
        reference: r.reference,
        note: (r.metadata?.note as string | undefined) ?? null,
        createdAt: r.createdAt.toISOString(),
      }),
      (r) => r.entryId,
    );
  }

  /**
   * User-to-user transfer. The fee (TRANSFER_FEE_BPS) is paid by the sender on top of the
   * amount, as its own movement to the fee account; both commit together or not at all.
   */
  async transfer(fromUserId: string, dto: TransferDto, idempotencyKey?: string): Promise<TransferView> {
    const a = asset(dto.asset);
    const amount = parseAmount(dto.amount, a, 'amount');
    if (dto.toUserId === fromUserId) throw badRequest('toUserId must be another user');
    const fee = feeFor(amount, this.config.fees.transferBps);
    const key = `wallet-transfer:${fromUserId}:${idempotencyKey ? keyToken(idempotencyKey) : randomUUID()}`;
    const note = dto.note?.trim() || null;
    const input = { key, kind: 'transfer', from: { userId: fromUserId }, to: { userId: dto.toUserId }, asset: a, amount, reference: null, metadata: note ? { note } : null };
    let main;
    try {
      main =
        fee === 0n
          ? // One movement: a single atomic statement (shared with concurrent transfers under group commit).
            await this.ledger.transfer(input)
          : // A linked group: the transfer and its fee (which names the transfer) commit together or not at all.
            (
              await this.ledger.transferLinked([
                input,
                { key: `${key}:fee`, kind: 'fee', from: { userId: fromUserId }, to: { system: 'fees' }, asset: a, amount: fee, referencePrevious: true },
              ])
            )[0];
    } catch (e) {
      // The recipient's account is created on first use; a missing user has none (the batch
      // path says so; the one-statement path fails the account's foreign key).
      if (pgCode(e) === '23503' || (e instanceof DomainError && e.code === 'NOT_FOUND')) throw notFound('Recipient not found');
      throw e;
    }
    return {
      id: main.id,
      transactionId: main.id,
      fromUserId,
      toUserId: dto.toUserId,
      asset: a,
      amount: formatAmount(amount, a),
      fee: formatAmount(fee, a),
      note,
      status: 'completed',
      createdAt: main.createdAt.toISOString(),
    };
  }

  /** Admin credit from the outside world; one deposit per asset and external reference. */
  async deposit(userId: string, dto: DepositDto) {
    const a = asset(dto.asset);
    const amount = parseAmount(dto.amount, a, 'amount');
    if (!(await this.users.exists(userId))) throw notFound('User not found');
    const reference = dto.reference.trim();
    if (!reference) throw badRequest('reference must not be blank');
    const t = await this.ledger.transfer({
      key: `deposit:${a}:${reference}`,
      kind: 'deposit',
      from: { system: 'external' },
      to: { userId },
      asset: a,
      amount,
      reference,
    });
    return { id: t.id, userId, asset: a, amount: formatAmount(amount, a), reference, createdAt: t.createdAt.toISOString(), replayed: t.replayed };
  }
}
