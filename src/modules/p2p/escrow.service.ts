import { Injectable } from '@nestjs/common';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { keyToken } from '../../core/http/idempotency';
import { AssetSymbol } from '../ledger/assets';
import { formatAmount, parseAmount } from '../ledger/money';
import { checkEvidence } from './dispute-seal';
import { EscrowChatRoom } from './escrow.chat-room';
import { EscrowCreation } from './escrow.creation';
import { EscrowDisputes } from './escrow.disputes';
import { decide, EscrowAction, EscrowActor, EscrowStatus, TRANSITIONS } from './escrow.machine';
import { pickPaymentMethod } from './escrow.rules';
import { EscrowTransitions, TransitionResult } from './escrow.transitions';
import { EscrowWindows } from './escrow.windows';
import { EscrowsRepository } from './escrows.repository';
import { FIAT_MAX_CENTS, fiatFor, parseFiat, PRICE_DECIMALS, scaledFromDb } from './p2p.math';
import { iso } from '../../core/database/sql';
import { EscrowEventView, EscrowRow, EscrowView, pgArray, toEscrowView } from './p2p.views';
import { OffersService } from './offers.service';
import type { AcceptOfferDto, AdminEscrowsQueryDto, CreateEscrowDto, DisputeDto, EscrowsQueryDto, ResolveDto } from './dto/p2p.dto';
import { isUUID } from 'class-validator';

const isCursor = (v: unknown): v is [string, string] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && v[0].length <= 64 && typeof v[1] === 'string' && isUUID(v[1]);

/**
 * P2P escrows: the use cases every transport calls. Every state change:
 *  1. checks who asks (strangers: 404, as if the escrow did not exist; the wrong party: 403),
 *     and the state against `escrow.machine.ts` (409 otherwise);
 *  2. runs the step in one transaction (`EscrowTransitions`: row lock, money through the
 *     ledger by `EscrowMoney`, state, timeline, reputation; SQL in `EscrowsRepository`);
 *  3. after commit: schedules or drops window jobs and announces (`EscrowWindows.followUp`).
 * Opening an escrow is `EscrowCreation`; dispute seals `EscrowDisputes`; the trade chat room
 * `EscrowChatRoom`; the windows and the sweep `EscrowWindows`.
 */
@Injectable()
export class EscrowService {
  constructor(
    private readonly repo: EscrowsRepository,
    private readonly offers: OffersService,
    private readonly creation: EscrowCreation,
    private readonly transitions: EscrowTransitions,
    private readonly disputes: EscrowDisputes,
    private readonly windows: EscrowWindows,
    private readonly chatRoom: EscrowChatRoom,
  ) {}

  // ------------------------------------------------------------------ reads

  /** The escrow if the caller may see it (a party or an admin); 404 otherwise, whether or not it exists. */
  private async visibleRow(user: AuthUser, id: string): Promise<EscrowRow> {
    const r = await this.repo.row(id);
    if (!r || (r.seller_id !== user.id && r.buyer_id !== user.id && !isAdmin(user))) throw notFound('Escrow not found');
    return r;
  }

  actorsOf(user: AuthUser, r: EscrowRow): EscrowActor[] {
    const a: EscrowActor[] = [];
    if (r.seller_id === user.id) a.push('seller');
    if (r.buyer_id === user.id) a.push('buyer');
    if (isAdmin(user)) a.push('admin');
    return a;
  }

  async get(user: AuthUser, id: string): Promise<EscrowView> {
    return toEscrowView(await this.visibleRow(user, id));
  }

  /** Throws unless the caller may follow this escrow (GraphQL subscription check). */
  async assertCanView(user: AuthUser, id: string): Promise<void> {
    await this.visibleRow(user, id);
  }

  async events(user: AuthUser, id: string): Promise<EscrowEventView[]> {
    await this.visibleRow(user, id);
    const rows = await this.repo.events(id);
    return rows.map((r) => ({ fromStatus: r.from_status, toStatus: r.to_status, actorId: r.actor_id, actorRole: r.actor_role, note: r.note, at: iso(r.created_at)! }));
  }

  /** The caller's escrows (as buyer or seller), newest first. */
  async listMine(user: AuthUser, q: EscrowsQueryDto): Promise<Page<EscrowView>> {
    const where = q.role === 'buyer' ? `e.buyer_id = $1` : q.role === 'seller' ? `e.seller_id = $1` : `(e.seller_id = $1 OR e.buyer_id = $1)`;
    return this.page([where], [user.id], q);
  }

  /** Every escrow (admins), e.g. `?status=disputed` for the arbitration queue. */
  async listAll(q: AdminEscrowsQueryDto): Promise<Page<EscrowView>> {
    return this.page([], [], q);
  }

  private async page(where: string[], params: unknown[], q: { status?: string; limit?: unknown; cursor?: unknown }): Promise<Page<EscrowView>> {
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, isCursor);
    let rows: (EscrowRow & { cursor_at: string })[];
    try {
      rows = await this.repo.page(where, params, q.status, cursor, limit);
    } catch (e) {
      if (['22007', '22008', '22P02'].includes((e as { code?: string }).code ?? '')) throw badRequest('cursor is invalid');
      throw e;
    }
    return toPage(rows, limit, toEscrowView, (r) => [r.cursor_at, r.id]);
  }

  // ------------------------------------------------------------------ creation

  /** A buyer (or, for a buy offer, a seller) takes an offer: the seller's crypto is held at once. */
  async acceptOffer(user: AuthUser, offerId: string, dto: AcceptOfferDto, idempotencyKey?: string): Promise<EscrowView> {
    const offer = await this.offers.getRow(offerId);
    if (offer.user_id === user.id) throw unprocessable('You cannot accept your own offer');
    if (offer.status !== 'active') throw conflict(`The offer is ${offer.status}; it cannot be accepted`);
    const asset = offer.asset;
    const amount = parseAmount(dto.amount, asset, 'amount');
    const min = BigInt(offer.min_amount);
    const max = BigInt(offer.max_amount);
    if (amount < min || amount > max) {
      throw unprocessable(`amount must be between ${formatAmount(min, asset)} and ${formatAmount(max, asset)} ${asset} for this offer`, { field: 'amount' });
    }
    const method = pickPaymentMethod(pgArray(offer.payment_methods), dto.paymentMethod);
    const priceE8 = scaledFromDb(offer.price, PRICE_DECIMALS);
    const fiatCents = fiatFor(amount, asset, priceE8);
    if (fiatCents === 0n) throw unprocessable(`amount is too small: it is worth less than 0.01 ${offer.fiat_currency}`, { field: 'amount' });
    if (fiatCents > FIAT_MAX_CENTS) throw unprocessable('amount is too large for this price', { field: 'amount' });
    const advertiserSells = offer.side === 'sell';
    return this.creation.create({
      createdBy: user.id,
      creatorRole: advertiserSells ? 'buyer' : 'seller',
      creationKey: idempotencyKey ? `accept:${user.id}:${keyToken(idempotencyKey)}` : null,
      offerId: offer.id,
      sellerId: advertiserSells ? offer.user_id : user.id,
      buyerId: advertiserSells ? user.id : offer.user_id,
      asset,
      amount,
      priceE8,
      fiatCurrency: offer.fiat_currency,
      fiatCents,
      paymentMethod: method,
      windowSeconds: Number(offer.payment_window_seconds),
    });
  }

  /** A seller opens an escrow directly for a known buyer (terms agreed elsewhere). */
  async createDirect(user: AuthUser, dto: CreateEscrowDto, idempotencyKey?: string): Promise<EscrowView> {
    const asset = dto.asset as AssetSymbol;
    const amount = parseAmount(dto.amount, asset, 'amount');
    const fiatCents = parseFiat(dto.fiatAmount);
    this.offers.checkWindow(dto.paymentWindowSeconds);
    if (dto.buyerId === user.id) throw badRequest('buyerId must be another user');
    const method = dto.paymentMethod.trim();
    if (!method) throw badRequest('paymentMethod must be 1 to 40 characters');
    return this.creation.create({
      createdBy: user.id,
      creatorRole: 'seller',
      creationKey: idempotencyKey ? `direct:${user.id}:${keyToken(idempotencyKey)}` : null,
      offerId: null,
      sellerId: user.id,
      buyerId: dto.buyerId,
      asset,
      amount,
      priceE8: null,
      fiatCurrency: dto.fiatCurrency,
      fiatCents,
      paymentMethod: method,
      windowSeconds: dto.paymentWindowSeconds,
    });
  }

  ensureChatRoom(row: Pick<EscrowRow, 'id' | 'seller_id' | 'buyer_id' | 'chat_room_id'>): Promise<string | null> {
    return this.chatRoom.ensure(row);
  }

  // ------------------------------------------------------------------ party actions

  confirmPaid(user: AuthUser, id: string) {
    return this.act(user, id, 'confirm');
  }

  cancel(user: AuthUser, id: string) {
    return this.act(user, id, 'cancel');
  }

  release(user: AuthUser, id: string) {
    return this.act(user, id, 'release');
  }

  async dispute(user: AuthUser, id: string, dto: DisputeDto): Promise<EscrowView> {
    const reason = dto.reason.trim();
    if (!reason) throw badRequest('reason must be 1 to 1000 characters');
    const ev = checkEvidence(dto.evidence);
    if (!ev.ok) throw badRequest(ev.message);
    const row = await this.visibleRow(user, id);
    const actors = this.actorsOf(user, row);
    this.check('dispute', actors, row.status);
    const role = actors.includes('seller') ? 'seller' : 'buyer';
    const dispute = await this.disputes.seal(row, { openedBy: user.id, openedByRole: role, reason, evidence: ev.urls });
    return this.finish(await this.transitions.run(row.id, 'dispute', { id: user.id, role }, { dispute }), 'dispute', actors, user.id);
  }

  /** An admin decides a dispute: release to the buyer, or refund the seller. */
  async resolve(admin: AuthUser, id: string, dto: ResolveDto): Promise<EscrowView> {
    const note = dto.note.trim();
    if (!note) throw badRequest('note must be 1 to 2000 characters');
    const row = await this.repo.row(id);
    if (!row) throw notFound('Escrow not found');
    if (row.seller_id === admin.id || row.buyer_id === admin.id) throw forbidden('You cannot arbitrate a trade you are a party to');
    const action: EscrowAction = dto.outcome === 'release' ? 'resolve_release' : 'resolve_refund';
    this.check(action, ['admin'], row.status);
    const r = await this.transitions.run(id, action, { id: admin.id, role: 'admin' }, { note, resolution: { outcome: dto.outcome, note, by: admin.id } });
    return this.finish(r, action, ['admin'], admin.id);
  }

  private async act(user: AuthUser, id: string, action: 'confirm' | 'cancel' | 'release'): Promise<EscrowView> {
    const row = await this.visibleRow(user, id);
    const actors = this.actorsOf(user, row);
    this.check(action, actors, row.status);
    const role = TRANSITIONS[action].actors.find((a) => actors.includes(a))!;
    return this.finish(await this.transitions.run(id, action, { id: user.id, role }), action, actors, user.id);
  }

  private check(action: EscrowAction, actors: EscrowActor[], status: EscrowStatus) {
    const d = decide(action, actors, status);
    if (!d.ok) throw d.error === 'forbidden' ? forbidden(d.message) : conflict(d.message);
  }

  private async finish(r: TransitionResult, action: EscrowAction, actors: EscrowActor[], actorId: string | null): Promise<EscrowView> {
    if (!r.ok) {
      if (r.paymentWindowEnded) {
        throw unprocessable('The payment window has ended; this trade can no longer be marked as paid', { reason: 'payment_window_ended' });
      }
      this.check(action, actors, r.status); // throws the 409 for the state that won the race
      throw conflict('The escrow changed; try again');
    }
    await this.windows.followUp(r.view, action, actorId);
    return r.view;
  }

  // ------------------------------------------------------------------ windows, disputes (jobs and admins)

  expirePayment(id: string) {
    return this.windows.expirePayment(id);
  }

  expireRelease(id: string) {
    return this.windows.expireRelease(id);
  }

  schedule(kind: 'payment-window' | 'release-window', escrowId: string, at: Date): Promise<void> {
    return this.windows.schedule(kind, escrowId, at);
  }

  sweep(opts: { reschedule: boolean; batch?: number }) {
    return this.windows.sweep(opts);
  }

  /** Recomputes a dispute's seal from the stored record and chat (admins). */
  verifySeal(id: string) {
    return this.disputes.verifySeal(id);
  }
}
