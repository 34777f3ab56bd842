import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { Tx, withTransaction } from '../../core/database/transaction';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { keyToken } from '../../core/http/idempotency';
import { JobsService } from '../../core/queue/jobs.service';
import { RedisService } from '../../core/redis/redis.service';
import { AssetSymbol } from '../ledger/assets';
import { feeFor, formatAmount, parseAmount } from '../ledger/money';
import { LedgerService } from '../ledger/ledger.service';
import { ChatService } from '../chat/chat.service';
import { checkEvidence, sealDispute, SealInput } from './dispute-seal';
import { decide, EscrowAction, EscrowActor, EscrowStatus, statsDelta, TRANSITIONS } from './escrow.machine';
import { EscrowChange, P2PAnnouncer } from './p2p.announcer';
import { FIAT_DECIMALS, FIAT_MAX_CENTS, fiatFor, formatScaled, parseFiat, PRICE_DECIMALS, scaledFromDb } from './p2p.math';
import { ESCROW_SELECT, EscrowEventView, EscrowRow, EscrowView, iso, pgArray, toEscrowView } from './p2p.views';
import { OffersService } from './offers.service';
import type { AcceptOfferDto, AdminEscrowsQueryDto, CreateEscrowDto, DisputeDto, EscrowsQueryDto, ResolveDto } from './dto/p2p.dto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isCursor = (v: unknown): v is [string, string] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && v[0].length <= 64 && typeof v[1] === 'string' && UUID_RE.test(v[1]);

/** Deterministic BullMQ job ids (no ':' allowed): one payment-window and one release-window job per escrow. */
export const paymentJobId = (escrowId: string) => `p2p-pay-${escrowId}`;
export const releaseJobId = (escrowId: string) => `p2p-release-${escrowId}`;

interface NewEscrow {
  createdBy: string;
  creatorRole: 'buyer' | 'seller';
  creationKey: string | null;
  offerId: string | null;
  sellerId: string;
  buyerId: string;
  asset: AssetSymbol;
  amount: bigint;
  priceE8: bigint | null;
  fiatCurrency: string;
  fiatCents: bigint;
  paymentMethod: string;
  windowSeconds: number;
}

type TransitionResult =
  | { ok: true; row: EscrowRow; view: EscrowView }
  | { ok: false; status: EscrowStatus; notDueMs?: number; paymentWindowEnded?: boolean };

interface DisputeInput {
  openedBy: string | null;
  openedByRole: 'buyer' | 'seller' | 'system';
  reason: string;
  evidence: string[];
  sealHash: string;
  sealedChatSeq: number;
}

/**
 * P2P escrows. Every state change:
 *  1. checks who asks (strangers: 404, as if the escrow did not exist; the wrong party: 403),
 *  2. in ONE transaction: locks the escrow row (SELECT ... FOR UPDATE), checks the state
 *     (409 otherwise), moves the money through the ledger (post the hold to the buyer, or void
 *     it), writes the new state, the timeline and the reputation counters,
 *  3. after commit: announces (sockets, GraphQL, notifications) and schedules the next window.
 * Two concurrent actions on one escrow serialise on the row lock; the second sees the first's
 * result and is refused, so release-vs-dispute or cancel-vs-timeout have exactly one winner.
 */
@Injectable()
export class EscrowService {
  private readonly logger = new Logger('P2P');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly offers: OffersService,
    private readonly chat: ChatService,
    private readonly jobs: JobsService,
    private readonly redis: RedisService,
    private readonly announcer: P2PAnnouncer,
  ) {}

  // ------------------------------------------------------------------ reads

  private async row(id: string, tx?: Tx): Promise<EscrowRow | null> {
    const sql = `${ESCROW_SELECT} WHERE e.id = $1`;
    const rows: EscrowRow[] = tx ? await tx.query(sql, [id]) : await this.ds.query(sql, [id]);
    return rows[0] ?? null;
  }

  /** The escrow if the caller may see it (a party or an admin); 404 otherwise, whether or not it exists. */
  private async visibleRow(user: AuthUser, id: string): Promise<EscrowRow> {
    const r = await this.row(id);
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
    const rows: { from_status: EscrowStatus | null; to_status: EscrowStatus; actor_id: string | null; actor_role: EscrowActor; note: string | null; created_at: Date }[] =
      await this.ds.query(`SELECT from_status, to_status, actor_id, actor_role, note, created_at FROM p2p_escrow_events WHERE escrow_id = $1 ORDER BY id`, [id]);
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
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (q.status) where.push(`e.status = ${p(q.status)}`);
    if (cursor) where.push(`(e.created_at, e.id) < (${p(cursor[0])}::timestamptz, ${p(cursor[1])}::uuid)`);
    const sql = `${ESCROW_SELECT.replace('SELECT e.*', 'SELECT e.created_at::text AS cursor_at, e.*')}
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.created_at DESC, e.id DESC LIMIT ${p(limit + 1)}`;
    let rows: (EscrowRow & { cursor_at: string })[];
    try {
      rows = await this.ds.query(sql, params);
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
    const methods = pgArray(offer.payment_methods);
    let method: string | undefined;
    if (dto.paymentMethod !== undefined) {
      method = methods.find((m) => m.toLowerCase() === dto.paymentMethod!.trim().toLowerCase());
      if (!method) throw badRequest(`paymentMethod must be one of the offer's: ${methods.join(', ')}`);
    } else if (methods.length === 1) {
      method = methods[0];
    } else {
      throw badRequest(`paymentMethod is required: one of ${methods.join(', ')}`);
    }
    const priceE8 = scaledFromDb(offer.price, PRICE_DECIMALS);
    const fiatCents = fiatFor(amount, asset, priceE8);
    if (fiatCents === 0n) throw unprocessable(`amount is too small: it is worth less than 0.01 ${offer.fiat_currency}`, { field: 'amount' });
    if (fiatCents > FIAT_MAX_CENTS) throw unprocessable('amount is too large for this price', { field: 'amount' });
    const advertiserSells = offer.side === 'sell';
    return this.create({
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
    return this.create({
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

  private async create(n: NewEscrow): Promise<EscrowView> {
    const fee = feeFor(n.amount, this.config.fees.p2pBps);
    const result = await withTransaction(this.ds, async (tx) => {
      if (n.offerId) {
        // Shares the offer row with other takers, but waits for (and then sees) a pause or close.
        const [o] = await tx.query<{ status: string }>(`SELECT status FROM p2p_offers WHERE id = $1 FOR SHARE`, [n.offerId]);
        if (!o || o.status !== 'active') throw conflict(`The offer is ${o?.status ?? 'gone'}; it cannot be accepted`);
      }
      const [buyer] = await tx.query(`SELECT 1 FROM users WHERE id = $1`, [n.buyerId]);
      if (!buyer) throw notFound('Buyer not found');
      if (n.creatorRole === 'buyer') await this.assertBuyerMayOpen(tx, n.buyerId, n.creationKey);
      const inserted = await tx.query<EscrowRow>(
        `INSERT INTO p2p_escrows (offer_id, seller_id, buyer_id, created_by, creation_key, asset, amount, fee, price, fiat_currency,
                                  fiat_amount, payment_method, payment_window_seconds, payment_deadline)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now() + $13::int * interval '1 second')
         ON CONFLICT (creation_key) DO NOTHING RETURNING id`,
        [
          n.offerId,
          n.sellerId,
          n.buyerId,
          n.createdBy,
          n.creationKey,
          n.asset,
          n.amount.toString(),
          fee.toString(),
          n.priceE8 === null ? null : formatScaled(n.priceE8, PRICE_DECIMALS),
          n.fiatCurrency,
          formatScaled(n.fiatCents, FIAT_DECIMALS),
          n.paymentMethod,
          n.windowSeconds,
        ],
      );
      if (!inserted.length) {
        // A replay of the same Idempotency-Key: the first escrow, nothing held twice.
        const [prev] = await tx.query<EscrowRow>(`${ESCROW_SELECT} WHERE e.creation_key = $1`, [n.creationKey]);
        const same =
          prev.offer_id === n.offerId &&
          prev.seller_id === n.sellerId &&
          prev.buyer_id === n.buyerId &&
          prev.asset === n.asset &&
          BigInt(prev.amount) === n.amount &&
          prev.fiat_currency === n.fiatCurrency &&
          scaledFromDb(prev.fiat_amount, FIAT_DECIMALS) === n.fiatCents &&
          prev.payment_method === n.paymentMethod &&
          Number(prev.payment_window_seconds) === n.windowSeconds;
        if (!same) throw conflict('Idempotency-Key was already used for a different escrow');
        return { row: prev, replayed: true };
      }
      const id = inserted[0].id;
      const hold = await this.ledger.hold(
        { key: `p2p-escrow:${id}`, kind: 'p2p_escrow', account: { userId: n.sellerId }, asset: n.asset, amount: n.amount + fee, reference: id },
        tx,
      );
      await tx.query(`UPDATE p2p_escrows SET hold_id = $2 WHERE id = $1`, [id, hold.id]);
      await this.recordEvent(tx, id, null, 'awaiting_payment', n.createdBy, n.creatorRole, null);
      const row = (await this.row(id, tx))!;
      await this.announcer.record(tx, { escrow: toEscrowView(row), change: 'created', actorId: n.createdBy });
      return { row, replayed: false };
    });
    if (result.replayed) {
      if (!result.row.chat_room_id) return this.viewWithRoom(result.row);
      return toEscrowView(result.row);
    }
    const view = await this.viewWithRoom(result.row);
    await this.schedule('payment-window', view.id, new Date(view.paymentDeadline));
    await this.announcer.announce(view, 'created', n.createdBy);
    return view;
  }

  /**
   * A buyer who takes offers may hold at most P2P_MAX_OPEN_ESCROWS_PER_BUYER unpaid escrows and
   * abandon (cancel, or let lapse) at most P2P_MAX_CANCELLATIONS_PER_DAY a day: nobody can lock
   * sellers' funds by accepting over and over. Serialised per buyer (transaction-scoped advisory
   * lock), so parallel accepts cannot both slip under the limit. A replay of an earlier accept
   * (same creation key) is not counted.
   */
  private async assertBuyerMayOpen(tx: Tx, buyerId: string, creationKey: string | null) {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('p2p-buyer'), hashtext($1))`, [buyerId]);
    if (creationKey) {
      const [prev] = await tx.query(`SELECT 1 FROM p2p_escrows WHERE creation_key = $1`, [creationKey]);
      if (prev) return;
    }
    const [c] = await tx.query<{ open: number; abandoned: number }>(
      `SELECT count(*) FILTER (WHERE status = 'awaiting_payment')::int AS open,
              count(*) FILTER (WHERE status = 'cancelled' AND cancelled_at > now() - interval '1 day')::int AS abandoned
       FROM p2p_escrows WHERE buyer_id = $1 AND (status = 'awaiting_payment' OR cancelled_at > now() - interval '1 day')`,
      [buyerId],
    );
    const { maxOpenEscrowsPerBuyer: maxOpen, maxCancellationsPerDay: maxCancelled } = this.config.p2pLimits;
    if (c.open >= maxOpen) {
      throw unprocessable(`You already have ${c.open} unpaid trades (the limit is ${maxOpen}); pay or cancel one first`, { reason: 'too_many_open_escrows', limit: maxOpen });
    }
    if (c.abandoned >= maxCancelled) {
      throw unprocessable(`You cancelled or let lapse ${c.abandoned} trades in the last 24 hours (the limit is ${maxCancelled}); try again later`, {
        reason: 'too_many_cancellations',
        limit: maxCancelled,
      });
    }
  }

  // ------------------------------------------------------------------ chat room

  /** The trade's private chat room for its two parties (created once, after the escrow commits). */
  private async viewWithRoom(row: EscrowRow): Promise<EscrowView> {
    const roomId = await this.ensureChatRoom(row).catch((e) => {
      this.logger.warn(`could not create the chat room of escrow ${row.id}: ${(e as Error).message}`);
      return null;
    });
    return toEscrowView({ ...row, chat_room_id: roomId ?? row.chat_room_id });
  }

  async ensureChatRoom(row: Pick<EscrowRow, 'id' | 'seller_id' | 'buyer_id' | 'chat_room_id'>): Promise<string | null> {
    if (row.chat_room_id) return row.chat_room_id;
    // One creator at a time across instances (a retry or the sweep may race the request).
    const lock = this.redis.key('p2p', 'chat-room', row.id);
    if ((await this.redis.client.set(lock, '1', 'PX', 30_000, 'NX')) !== 'OK') return null;
    try {
      const [cur] = await this.ds.query(`SELECT chat_room_id FROM p2p_escrows WHERE id = $1`, [row.id]);
      if (cur?.chat_room_id) return cur.chat_room_id;
      // A system room: neither party owns it, so neither can remove the other or add anyone.
      const room = await this.chat.createSystemRoom({ name: `P2P trade ${row.id.slice(0, 8)}`, memberIds: [row.seller_id, row.buyer_id] });
      await this.ds.query(`UPDATE p2p_escrows SET chat_room_id = $2 WHERE id = $1 AND chat_room_id IS NULL`, [row.id, room.id]);
      return room.id;
    } finally {
      await this.redis.client.del(lock).catch(() => undefined);
    }
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
    const dispute = await this.seal(row, { openedBy: user.id, openedByRole: role, reason, evidence: ev.urls });
    return this.finish(await this.transition(row.id, 'dispute', { id: user.id, role }, { dispute }), 'dispute', actors, user.id);
  }

  /** An admin decides a dispute: release to the buyer, or refund the seller. */
  async resolve(admin: AuthUser, id: string, dto: ResolveDto): Promise<EscrowView> {
    const note = dto.note.trim();
    if (!note) throw badRequest('note must be 1 to 2000 characters');
    const row = await this.row(id);
    if (!row) throw notFound('Escrow not found');
    if (row.seller_id === admin.id || row.buyer_id === admin.id) throw forbidden('You cannot arbitrate a trade you are a party to');
    const action: EscrowAction = dto.outcome === 'release' ? 'resolve_release' : 'resolve_refund';
    this.check(action, ['admin'], row.status);
    const r = await this.transition(id, action, { id: admin.id, role: 'admin' }, { note, resolution: { outcome: dto.outcome, note, by: admin.id } });
    return this.finish(r, action, ['admin'], admin.id);
  }

  private async act(user: AuthUser, id: string, action: 'confirm' | 'cancel' | 'release'): Promise<EscrowView> {
    const row = await this.visibleRow(user, id);
    const actors = this.actorsOf(user, row);
    this.check(action, actors, row.status);
    const role = TRANSITIONS[action].actors.find((a) => actors.includes(a))!;
    return this.finish(await this.transition(id, action, { id: user.id, role }), action, actors, user.id);
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
    await this.after(r.view, action, actorId);
    return r.view;
  }

  private async after(view: EscrowView, action: EscrowAction, actorId: string | null) {
    if (view.status === 'paid' && view.releaseDeadline) await this.schedule('release-window', view.id, new Date(view.releaseDeadline));
    // A window closed by a party's action: drop its delayed job (it would only find nothing to do).
    if (action === 'confirm' || action === 'cancel') await this.unschedule(paymentJobId(view.id));
    if (action === 'release' || action === 'dispute') await this.unschedule(releaseJobId(view.id));
    await this.announcer.announce(view, action as EscrowChange, actorId);
  }

  private async unschedule(jobId: string) {
    try {
      const job = await this.jobs.queue('p2p').getJob(jobId);
      if (job && (await job.isDelayed())) await job.remove();
    } catch {
      /* it may be running right now; it will find the escrow moved on */
    }
  }

  // ------------------------------------------------------------------ windows (jobs and sweep)

  /**
   * The payment window ended: cancel and give the seller's crypto back. Idempotent; `notDueMs`
   * when the deadline (by the database clock) has not come yet.
   */
  async expirePayment(id: string): Promise<{ done: boolean; notDueMs?: number }> {
    const r = await this.transition(id, 'expire_payment', { id: null, role: 'system' }, { due: 'payment' });
    if (!r.ok) return { done: false, notDueMs: r.notDueMs };
    await this.after(r.view, 'expire_payment', null);
    return { done: true };
  }

  /** The release window ended with the crypto still in escrow: the trade goes to arbitration. */
  async expireRelease(id: string): Promise<{ done: boolean; notDueMs?: number }> {
    const row = await this.row(id);
    if (!row || row.status !== 'paid') return { done: false };
    const dispute = await this.seal(row, {
      openedBy: null,
      openedByRole: 'system',
      reason: 'The seller did not release within the release window',
      evidence: [],
    });
    const r = await this.transition(id, 'expire_release', { id: null, role: 'system' }, { due: 'release', dispute });
    if (!r.ok) return { done: false, notDueMs: r.notDueMs };
    await this.after(r.view, 'expire_release', null);
    return { done: true };
  }

  async schedule(kind: 'payment-window' | 'release-window', escrowId: string, at: Date): Promise<void> {
    const jobId = kind === 'payment-window' ? paymentJobId(escrowId) : releaseJobId(escrowId);
    try {
      await this.jobs.add('p2p', kind, { escrowId }, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
    } catch (e) {
      // The sweep finds it in the database later.
      this.logger.warn(`could not schedule ${kind} for escrow ${escrowId}: ${(e as Error).message}`);
    }
  }

  // ------------------------------------------------------------------ disputes

  /** Seals the trade chat (up to now) and the dispute's own words and evidence. */
  private async seal(row: EscrowRow, d: Omit<DisputeInput, 'sealHash' | 'sealedChatSeq'>): Promise<DisputeInput> {
    const messages = row.chat_room_id ? await this.transcript(row.chat_room_id) : [];
    const sealHash = sealDispute(this.sealInput(row, d, messages));
    return { ...d, sealHash, sealedChatSeq: messages.at(-1)?.seq ?? 0 };
  }

  private sealInput(row: EscrowRow, d: Pick<DisputeInput, 'openedBy' | 'openedByRole' | 'reason' | 'evidence'>, messages: SealInput['messages']): SealInput {
    const v = toEscrowView(row);
    return {
      escrow: {
        id: v.id,
        sellerId: v.sellerId,
        buyerId: v.buyerId,
        asset: v.asset,
        amount: v.amount,
        fiatCurrency: v.fiatCurrency,
        fiatAmount: v.fiatAmount,
        paymentMethod: v.paymentMethod,
      },
      dispute: { openedBy: d.openedBy, openedByRole: d.openedByRole, reason: d.reason, evidence: d.evidence },
      chatRoomId: row.chat_room_id,
      messages,
    };
  }

  /** The trade chat, oldest first, optionally only up to `uptoSeq`. */
  private async transcript(roomId: string, uptoSeq?: number): Promise<SealInput['messages']> {
    const out: SealInput['messages'] = [];
    let after = 0;
    for (let pages = 0; pages < 100; pages++) {
      const page = await this.chat.catchUp(roomId, after, 500);
      for (const m of page.messages) {
        if (uptoSeq !== undefined && m.seq > uptoSeq) return out;
        out.push({ seq: m.seq, senderId: m.senderId, content: m.content, createdAt: m.createdAt });
      }
      if (!page.hasMore || !page.messages.length) break;
      after = page.messages[page.messages.length - 1].seq;
    }
    return out;
  }

  /** Recomputes a dispute's seal from the stored record and chat (admins). */
  async verifySeal(id: string): Promise<{ escrowId: string; sealHash: string; recomputed: string; matches: boolean; sealedChatSeq: number }> {
    const row = await this.row(id);
    if (!row) throw notFound('Escrow not found');
    if (!row.d_escrow_id) throw notFound('This escrow has no dispute');
    const sealedChatSeq = Number(row.d_sealed_chat_seq ?? 0);
    const messages = row.chat_room_id && sealedChatSeq > 0 ? await this.transcript(row.chat_room_id, sealedChatSeq) : [];
    const recomputed = sealDispute(
      this.sealInput(
        row,
        { openedBy: row.d_opened_by ?? null, openedByRole: row.d_opened_by_role!, reason: row.d_reason!, evidence: row.d_evidence ?? [] },
        messages,
      ),
    );
    return { escrowId: id, sealHash: row.d_seal_hash!, recomputed, matches: recomputed === row.d_seal_hash, sealedChatSeq };
  }

  // ------------------------------------------------------------------ the transition

  private async transition(
    id: string,
    action: EscrowAction,
    actor: { id: string | null; role: EscrowActor },
    opts: { due?: 'payment' | 'release'; dispute?: DisputeInput; note?: string; resolution?: { outcome: 'release' | 'refund'; note: string; by: string } } = {},
  ): Promise<TransitionResult> {
    const t = TRANSITIONS[action];
    return withTransaction(this.ds, async (tx): Promise<TransitionResult> => {
      const [cur] = await tx.query<EscrowRow & { payment_ms_left: string | null; release_ms_left: string | null }>(
        `SELECT *, (extract(epoch FROM payment_deadline - now()) * 1000)::bigint::text AS payment_ms_left,
                   (extract(epoch FROM release_deadline - now()) * 1000)::bigint::text AS release_ms_left
         FROM p2p_escrows WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!cur) throw notFound('Escrow not found');
      if (cur.status !== t.from) return { ok: false, status: cur.status };
      // The buyer's "paid" counts only inside the payment window, whether or not the timeout job ran yet.
      if (action === 'confirm' && Number(cur.payment_ms_left) <= 0) return { ok: false, status: cur.status, paymentWindowEnded: true };
      if (opts.due) {
        const left = Number(opts.due === 'payment' ? cur.payment_ms_left : cur.release_ms_left);
        if (left > 0) return { ok: false, status: cur.status, notDueMs: left };
      }

      // Money first, in this transaction: it commits with the state change or not at all.
      let releaseTransfer: string | null = null;
      let feeTransfer: string | null = null;
      if (t.money === 'post_to_buyer') {
        const amount = BigInt(cur.amount);
        const fee = BigInt(cur.fee);
        const main = await this.ledger.postHold(
          {
            key: `p2p:${id}:release`,
            holdId: cur.hold_id!,
            amount,
            to: { userId: cur.buyer_id },
            kind: 'p2p_release',
            final: fee === 0n,
            reference: id,
            metadata: { escrowId: id },
          },
          tx,
        );
        releaseTransfer = main.id;
        if (fee > 0n) {
          const f = await this.ledger.postHold(
            { key: `p2p:${id}:fee`, holdId: cur.hold_id!, amount: fee, to: { system: 'fees' }, kind: 'fee', final: true, reference: id, metadata: { escrowId: id, feeFor: 'p2p' } },
            tx,
          );
          feeTransfer = f.id;
        }
      } else if (t.money === 'void') {
        await this.ledger.voidHold(cur.hold_id!, tx);
      }

      const params: unknown[] = [id, t.to, t.from];
      const sets = ['status = $2', 'updated_at = now()'];
      const add = (sql: string, v: unknown) => {
        params.push(v);
        sets.push(sql.replace('?', `$${params.length}`));
      };
      switch (t.to) {
        case 'paid':
          sets.push('paid_at = now()');
          add(`release_deadline = now() + ?::int * interval '1 second'`, this.config.p2p.releaseWindowSeconds);
          break;
        case 'cancelled':
          sets.push('cancelled_at = now()');
          add('cancel_reason = ?', action === 'cancel' ? 'buyer_cancelled' : 'payment_timeout');
          break;
        case 'disputed':
          sets.push('disputed_at = now()');
          break;
        case 'released':
          sets.push('released_at = now()');
          add('release_transfer_id = ?', releaseTransfer);
          add('fee_transfer_id = ?', feeTransfer);
          break;
        case 'refunded':
          sets.push('refunded_at = now()');
          break;
      }
      const upd = await tx.run(`UPDATE p2p_escrows SET ${sets.join(', ')} WHERE id = $1 AND status = $3`, params);
      if (upd.affected !== 1) throw conflict('The escrow changed; try again'); // unreachable under the row lock

      if (opts.dispute) {
        const d = opts.dispute;
        await tx.query(
          `INSERT INTO p2p_disputes (escrow_id, opened_by, opened_by_role, reason, evidence, seal_hash, sealed_chat_seq)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)`,
          [id, d.openedBy, d.openedByRole, d.reason, JSON.stringify(d.evidence), d.sealHash, d.sealedChatSeq],
        );
      }
      if (opts.resolution) {
        await tx.query(`UPDATE p2p_disputes SET outcome = $2, resolution_note = $3, resolved_by = $4, resolved_at = now() WHERE escrow_id = $1`, [
          id,
          opts.resolution.outcome,
          opts.resolution.note,
          opts.resolution.by,
        ]);
      }
      await this.bumpStats(tx, cur, t.to);
      await this.recordEvent(tx, id, t.from, t.to, actor.id, actor.role, opts.note ?? opts.dispute?.reason ?? null);
      const row = (await this.row(id, tx))!;
      const view = toEscrowView(row);
      await this.announcer.record(tx, { escrow: view, change: action, actorId: actor.id });
      return { ok: true, row, view };
    });
  }

  private async recordEvent(tx: Tx, id: string, from: EscrowStatus | null, to: EscrowStatus, actorId: string | null, role: EscrowActor, note: string | null) {
    await tx.query(`INSERT INTO p2p_escrow_events (escrow_id, from_status, to_status, actor_id, actor_role, note) VALUES ($1, $2, $3, $4, $5, $6)`, [
      id,
      from,
      to,
      actorId,
      role,
      note,
    ]);
  }

  /** Reputation counters, in the transition's transaction (rows locked in user-id order). */
  private async bumpStats(tx: Tx, r: EscrowRow, to: EscrowStatus) {
    const delta = statsDelta(to);
    const per = new Map<string, { c: number; f: number }>();
    const idOf = (p: 'buyer' | 'seller') => (p === 'buyer' ? r.buyer_id : r.seller_id);
    for (const p of delta.completed) per.set(idOf(p), { c: (per.get(idOf(p))?.c ?? 0) + 1, f: per.get(idOf(p))?.f ?? 0 });
    for (const p of delta.failed) per.set(idOf(p), { c: per.get(idOf(p))?.c ?? 0, f: (per.get(idOf(p))?.f ?? 0) + 1 });
    if (!per.size) return;
    const entries = [...per.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const values: unknown[] = [];
    const tuples = entries.map(([userId, d], i) => {
      values.push(userId, d.c, d.f);
      return `($${i * 3 + 1}::uuid, $${i * 3 + 2}::int, $${i * 3 + 3}::int)`;
    });
    await tx.query(
      `INSERT INTO p2p_user_stats (user_id, completed_trades, failed_trades) VALUES ${tuples.join(', ')}
       ON CONFLICT (user_id) DO UPDATE SET completed_trades = p2p_user_stats.completed_trades + EXCLUDED.completed_trades,
         failed_trades = p2p_user_stats.failed_trades + EXCLUDED.failed_trades, updated_at = now()`,
      values,
    );
  }

  // ------------------------------------------------------------------ sweep

  /**
   * Honours windows from the database: applies every window that has ended (whether its job
   * was lost, or the app was down when it fired) and, with `reschedule`, makes sure every open
   * window has its delayed job (deduplicated by job id) and every escrow its chat room.
   */
  async sweep(opts: { reschedule: boolean; batch?: number }): Promise<{ cancelled: number; disputed: number; scheduled: number }> {
    const batch = opts.batch ?? 200;
    let cancelled = 0;
    let disputed = 0;
    let scheduled = 0;
    for (;;) {
      const due: { id: string }[] = await this.ds.query(
        `SELECT id FROM p2p_escrows WHERE status = 'awaiting_payment' AND payment_deadline <= now() ORDER BY payment_deadline LIMIT $1`,
        [batch],
      );
      let progressed = 0;
      for (const { id } of due) {
        const r = await this.expirePayment(id).catch((e) => (this.logger.warn(`sweep: payment window of ${id}: ${(e as Error).message}`), { done: false }));
        if (r.done) progressed++;
      }
      cancelled += progressed;
      if (due.length < batch || progressed === 0) break;
    }
    for (;;) {
      const due: { id: string }[] = await this.ds.query(
        `SELECT id FROM p2p_escrows WHERE status = 'paid' AND release_deadline <= now() ORDER BY release_deadline LIMIT $1`,
        [batch],
      );
      let progressed = 0;
      for (const { id } of due) {
        const r = await this.expireRelease(id).catch((e) => (this.logger.warn(`sweep: release window of ${id}: ${(e as Error).message}`), { done: false }));
        if (r.done) progressed++;
      }
      disputed += progressed;
      if (due.length < batch || progressed === 0) break;
    }
    if (opts.reschedule) {
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const open: { id: string; status: EscrowStatus; payment_deadline: Date; release_deadline: Date | null }[] = await this.ds.query(
          `SELECT id, status, payment_deadline, release_deadline FROM p2p_escrows
           WHERE status IN ('awaiting_payment', 'paid') AND id > $1 ORDER BY id LIMIT $2`,
          [after, batch],
        );
        for (const e of open) {
          if (e.status === 'awaiting_payment') await this.schedule('payment-window', e.id, new Date(e.payment_deadline));
          else if (e.release_deadline) await this.schedule('release-window', e.id, new Date(e.release_deadline));
          scheduled++;
        }
        if (open.length < batch) break;
        after = open[open.length - 1].id;
      }
      const roomless: Pick<EscrowRow, 'id' | 'seller_id' | 'buyer_id' | 'chat_room_id'>[] = await this.ds.query(
        `SELECT id, seller_id, buyer_id, chat_room_id FROM p2p_escrows
         WHERE chat_room_id IS NULL AND status IN ('awaiting_payment', 'paid', 'disputed') AND created_at < now() - interval '30 seconds' LIMIT $1`,
        [batch],
      );
      for (const r of roomless) await this.ensureChatRoom(r).catch(() => null);
    }
    return { cancelled, disputed, scheduled };
  }
}
