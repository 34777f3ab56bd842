import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import type { AuthUser } from '../../core/auth/auth-user';
import { withTransaction } from '../../core/database/transaction';
import { badRequest, conflict, notFound, unprocessable } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { Announcer } from '../../core/realtime/announce';
import { InsufficientFundsError, LedgerService } from '../ledger/ledger.service';
import { NotificationsService } from '../notifications/notifications.service';
import { TipReceived } from './creator.events';
import { CreatorLive } from './creator.live';
import { CreatorRepository, TipRow } from './creator.repository';
import { planTip, TipPlan } from './creator.rules';
import { TipView, toTip } from './creator.views';
import { StatsService } from './stats.service';
import type { TipDto } from './dto/creator.dto';
import { isUUID } from 'class-validator';

const isTipCursor = (v: unknown): v is [string, string] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && v[0].length <= 64 && typeof v[1] === 'string' && isUUID(v[1]);

/** Ledger movement kinds of a tip. */
export const TIP_KIND = 'tip';
export const TIP_FEE_KIND = 'fee';

/**
 * Tips. One transaction writes the tip row and moves the money through the ledger: the
 * creator's share (amount − fee) from the fan to the creator and the fee (TIP_FEE_BPS of the
 * amount) from the fan to the platform's fee account, as its own movement. Either both
 * commit or nothing does (a balance too small for the gross amount: 422, nothing moved).
 * After commit: `tip_received` to the creator's sockets, `tipReceived` on GraphQL, a `tip`
 * notification, milestones and stats.
 */
@Injectable()
export class TipsService {
  private readonly logger = new Logger('Creator');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: CreatorRepository,
    private readonly ledger: LedgerService,
    private readonly stats: StatsService,
    private readonly live: CreatorLive,
    private readonly announcer: Announcer,
    private readonly notifications: NotificationsService,
  ) {}

  async list(user: AuthUser, creatorId: string, q: { limit?: unknown; cursor?: unknown }): Promise<Page<TipView>> {
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, isTipCursor);
    await this.stats.assertReadable(user, creatorId);
    let rows: TipRow[];
    try {
      rows = await this.repo.listTips(creatorId, limit, cursor);
    } catch (e) {
      if (['22007', '22008', '22P02'].includes((e as { code?: string }).code ?? '')) throw badRequest('cursor is invalid');
      throw e;
    }
    return toPage(rows, limit, toTip, (r) => [r.cursor_at, r.id]);
  }

  async tip(user: AuthUser, creatorId: string, dto: TipDto, idempotencyKey?: string): Promise<TipView> {
    const decided = planTip(dto, this.config.fees.tipBps, user.id, creatorId, await this.repo.isCreator(creatorId));
    if (!decided.ok) {
      if (decided.error === 'bad_request') throw badRequest(decided.message);
      if (decided.error === 'not_found') throw notFound(decided.message);
      throw unprocessable(decided.message);
    }
    const plan = decided.plan;
    const videoId = dto.videoId ?? null;
    if (videoId) {
      const owner = await this.repo.videoCreator(videoId);
      if (!owner) throw notFound('Video not found');
      if (owner !== creatorId) throw badRequest("videoId must be one of this creator's videos", { field: 'videoId' });
    }
    const creationKey = `${user.id}:${idempotencyKey ?? randomUUID()}`;
    const { row, replayed } = await this.write(user.id, creatorId, plan, videoId, creationKey);
    const view = toTip(row);
    if (!replayed) await this.announce(view);
    return view;
  }

  private async write(fanId: string, creatorId: string, p: TipPlan, videoId: string | null, creationKey: string): Promise<{ row: TipRow; replayed: boolean }> {
    try {
      return await withTransaction(this.ds, async (tx) => {
        const id = await this.repo.insertTip(tx, { creatorId, fromUserId: fanId, asset: p.asset, amount: p.amount, fee: p.fee, message: p.message, videoId, creationKey });
        if (!id) {
          // The same Idempotency-Key again: the first tip, if it is the same tip; nothing moves twice.
          const prev = (await this.repo.tipByKey(tx, creationKey))!;
          const same = prev.creator_id === creatorId && prev.asset === p.asset && BigInt(prev.amount) === p.amount && prev.message === p.message && prev.video_id === videoId;
          if (!same) throw conflict('Idempotency-Key was already used for a different tip');
          return { row: prev, replayed: true };
        }
        const main = await this.ledger.transfer(
          { key: `tip:${id}`, kind: TIP_KIND, from: { userId: fanId }, to: { userId: creatorId }, asset: p.asset, amount: p.net, reference: id, metadata: { tipId: id } },
          tx,
        );
        const fee =
          p.fee > 0n
            ? await this.ledger.transfer(
                { key: `tip:${id}:fee`, kind: TIP_FEE_KIND, from: { userId: fanId }, to: { system: 'fees' }, asset: p.asset, amount: p.fee, reference: id, metadata: { tipId: id, feeFor: 'tip' } },
                tx,
              )
            : null;
        await this.repo.setTipTransfers(tx, id, main.id, fee?.id ?? null);
        return { row: await this.repo.tip(id, tx), replayed: false };
      });
    } catch (e) {
      // Say what the whole tip needs, not the part that failed.
      if (e instanceof InsufficientFundsError) throw new InsufficientFundsError(p.asset, p.amount);
      throw e;
    }
  }

  private async announce(tip: TipView): Promise<void> {
    void this.announcer.announce(TipReceived, tip, { user: tip.creatorId });
    const note = tip.message ? `: “${tip.message}”` : '';
    await this.notifications
      .notify(
        tip.creatorId,
        { type: 'tip', title: `${tip.fromUsername} sent you a tip`, body: `${tip.amount} ${tip.asset}${note}`.slice(0, 2000), data: { tipId: tip.id, asset: tip.asset, amount: tip.amount, fee: tip.fee } },
        { dedupeKey: `tip:${tip.id}` },
      )
      .catch((e) => this.logger.warn(`tip notification failed for ${tip.id}: ${(e as Error).message}`));
    await this.live.changed(tip.creatorId);
  }
}
