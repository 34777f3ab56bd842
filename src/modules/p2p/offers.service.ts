import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { withTransaction } from '../../core/database/transaction';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { badRequest, conflict, forbidden, notFound } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { AssetSymbol, isAssetSymbol } from '../ledger/assets';
import { parseAmount } from '../ledger/money';
import { formatScaled, parsePrice, PRICE_DECIMALS } from './p2p.math';
import { OFFER_SELECT, OfferRow, OfferView, toOfferView } from './p2p.views';
import { Announcer } from '../../core/realtime/announce';
import { OfferUpdated } from './p2p.events';
import type { CreateOfferDto, OffersQueryDto, UpdateOfferDto } from './dto/p2p.dto';
import { isUUID } from 'class-validator';

const isCursor = (v: unknown): v is [string, string] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && v[0].length <= 64 && typeof v[1] === 'string' && isUUID(v[1]);

/** Payment method names: trimmed, unique (case-insensitively), in the order given. */
export function normalizeMethods(methods: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of methods) {
    const m = raw.trim().replace(/\s+/g, ' ');
    if (!m) throw badRequest('each payment method must be 1 to 40 characters');
    if (seen.has(m.toLowerCase())) continue;
    seen.add(m.toLowerCase());
    out.push(m);
  }
  return out;
}

/**
 * Offers (ads). An offer moves no money: the seller's funds are held only when an offer is
 * accepted and an escrow is created (EscrowService). Anyone signed in may browse; only the
 * advertiser (or an admin) changes an offer.
 */
@Injectable()
export class OffersService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly announcer: Announcer,
  ) {}

  checkWindow(seconds: number, field = 'paymentWindowSeconds') {
    const min = this.config.p2p.minPaymentWindowSeconds;
    if (!Number.isInteger(seconds) || seconds < min || seconds > 86400) {
      throw badRequest(`${field} must be an integer between ${min} and 86400`);
    }
  }

  async create(user: AuthUser, dto: CreateOfferDto): Promise<OfferView> {
    const asset = dto.asset as AssetSymbol;
    const price = parsePrice(dto.price);
    const min = parseAmount(dto.minAmount, asset, 'minAmount');
    const max = parseAmount(dto.maxAmount, asset, 'maxAmount');
    if (max < min) throw badRequest('maxAmount must not be less than minAmount');
    this.checkWindow(dto.paymentWindowSeconds);
    const methods = normalizeMethods(dto.paymentMethods);
    const [row] = await this.ds.query(
      `INSERT INTO p2p_offers (user_id, side, asset, fiat_currency, price, min_amount, max_amount, payment_methods, payment_window_seconds, terms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::varchar(40)[], $9, $10) RETURNING id`,
      [user.id, dto.side, asset, dto.fiatCurrency, formatScaled(price, PRICE_DECIMALS), min.toString(), max.toString(), methods, dto.paymentWindowSeconds, dto.terms?.trim() || null],
    );
    const offer = await this.get(row.id);
    this.announce(offer);
    return offer;
  }

  /** After the change committed: the market's live viewers (`offerUpdated`) see it without reloading. */
  private announce(offer: OfferView): void {
    void this.announcer.announce(OfferUpdated, offer, { none: true });
  }

  async getRow(offerId: string): Promise<OfferRow> {
    const rows: OfferRow[] = await this.ds.query(`${OFFER_SELECT} WHERE o.id = $1`, [offerId]);
    if (!rows.length) throw notFound('Offer not found');
    return rows[0];
  }

  async get(offerId: string): Promise<OfferView> {
    return toOfferView(await this.getRow(offerId));
  }

  async update(user: AuthUser, offerId: string, dto: UpdateOfferDto): Promise<OfferView> {
    const changed = await withTransaction(this.ds, async (tx) => {
      const [cur] = await tx.query<{ user_id: string; asset: AssetSymbol; status: string; min_amount: string; max_amount: string }>(
        `SELECT user_id, asset, status, min_amount, max_amount FROM p2p_offers WHERE id = $1 FOR UPDATE`,
        [offerId],
      );
      if (!cur) throw notFound('Offer not found');
      if (cur.user_id !== user.id && !isAdmin(user)) throw forbidden('Only the advertiser can change an offer');
      const sets: string[] = [];
      const params: unknown[] = [offerId];
      const set = (col: string, v: unknown, cast = '') => {
        params.push(v);
        sets.push(`${col} = $${params.length}${cast}`);
      };
      if (dto.price !== undefined) set('price', formatScaled(parsePrice(dto.price), PRICE_DECIMALS));
      const min = dto.minAmount !== undefined ? parseAmount(dto.minAmount, cur.asset, 'minAmount') : BigInt(cur.min_amount);
      const max = dto.maxAmount !== undefined ? parseAmount(dto.maxAmount, cur.asset, 'maxAmount') : BigInt(cur.max_amount);
      if (max < min) throw badRequest('maxAmount must not be less than minAmount');
      if (dto.minAmount !== undefined) set('min_amount', min.toString());
      if (dto.maxAmount !== undefined) set('max_amount', max.toString());
      if (dto.paymentMethods !== undefined) set('payment_methods', normalizeMethods(dto.paymentMethods), '::varchar(40)[]');
      if (dto.paymentWindowSeconds !== undefined) {
        this.checkWindow(dto.paymentWindowSeconds);
        set('payment_window_seconds', dto.paymentWindowSeconds);
      }
      if (dto.terms !== undefined) set('terms', dto.terms.trim() || null);
      if (dto.status !== undefined && dto.status !== cur.status) {
        if (cur.status === 'closed') throw conflict('The offer is closed; post a new one');
        set('status', dto.status);
      } else if (cur.status === 'closed' && sets.length) {
        throw conflict('The offer is closed; post a new one');
      }
      if (!sets.length) return false;
      await tx.query(`UPDATE p2p_offers SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, params);
      return { wasActive: cur.status === 'active' };
    });
    const offer = await this.get(offerId);
    // Only active offers are public: the market hears of an active offer's changes and of it leaving
    // (paused, closed), never of edits to an offer nobody else can see.
    if (changed && (changed.wasActive || offer.status === 'active')) this.announce(offer);
    return offer;
  }

  /**
   * The market. With `side`, best price first (lowest for sell offers, highest for buy offers),
   * otherwise newest first. Non-active offers are listed only for their advertiser (or admins).
   */
  async list(user: AuthUser, q: OffersQueryDto): Promise<Page<OfferView>> {
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, isCursor);
    const params: unknown[] = [];
    const where: string[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const status = q.status ?? 'active';
    where.push(`o.status = ${p(status)}`);
    if (status !== 'active' && !isAdmin(user)) {
      if (q.userId && q.userId !== user.id) throw forbidden('Only your own paused or closed offers are listed');
      where.push(`o.user_id = ${p(user.id)}`);
    }
    if (q.userId) where.push(`o.user_id = ${p(q.userId)}`);
    if (q.side) where.push(`o.side = ${p(q.side)}`);
    if (q.asset) where.push(`o.asset = ${p(q.asset)}`);
    if (q.fiatCurrency) where.push(`o.fiat_currency = ${p(q.fiatCurrency)}`);
    if (q.paymentMethod) where.push(`EXISTS (SELECT 1 FROM unnest(o.payment_methods) pm WHERE lower(pm) = lower(${p(q.paymentMethod.trim())}))`);
    if (q.amount !== undefined) {
      if (!q.asset || !isAssetSymbol(q.asset)) throw badRequest('amount needs asset (the amount is in that asset)');
      const a = parseAmount(q.amount, q.asset, 'amount').toString();
      where.push(`o.min_amount <= ${p(a)} AND o.max_amount >= ${p(a)}`);
    }
    if (q.minPrice !== undefined) where.push(`o.price >= ${p(formatScaled(parsePrice(q.minPrice, 'minPrice'), PRICE_DECIMALS))}`);
    if (q.maxPrice !== undefined) where.push(`o.price <= ${p(formatScaled(parsePrice(q.maxPrice, 'maxPrice'), PRICE_DECIMALS))}`);

    let order: string;
    let keyExpr: string;
    if (q.side) {
      const dir = q.side === 'sell' ? 'ASC' : 'DESC';
      const cmp = q.side === 'sell' ? '>' : '<';
      keyExpr = `o.price::text`;
      if (cursor) where.push(`(o.price, o.id) ${cmp} (${p(cursor[0])}::numeric, ${p(cursor[1])}::uuid)`);
      order = `o.price ${dir}, o.id ${dir}`;
    } else {
      keyExpr = `o.created_at::text`;
      if (cursor) where.push(`(o.created_at, o.id) < (${p(cursor[0])}::timestamptz, ${p(cursor[1])}::uuid)`);
      order = `o.created_at DESC, o.id DESC`;
    }
    const cursorOf = (r: OfferRow & { cursor_key: string }): [string, string] => [r.cursor_key, r.id];
    params.push(limit + 1);
    const sql = `${OFFER_SELECT.replace('SELECT o.*', `SELECT ${keyExpr} AS cursor_key, o.*`)}
      WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT $${params.length}`;
    let rows: (OfferRow & { cursor_key: string })[];
    try {
      rows = await this.ds.query(sql, params);
    } catch (e) {
      if (['22007', '22008', '22P02'].includes((e as { code?: string }).code ?? '')) throw badRequest('cursor is invalid');
      throw e;
    }
    return toPage(rows, limit, toOfferView, cursorOf);
  }
}
