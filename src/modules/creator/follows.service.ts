import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuthUser } from '../../core/auth/auth-user';
import { withTransaction } from '../../core/database/transaction';
import { notFound } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { RewardsService } from '../rewards/rewards.service';
import { CreatorLive } from './creator.live';
import { CreatorRepository } from './creator.repository';
import { decideFollow } from './creator.rules';
import { CreatorCard, toCard } from './creator.views';
import { enforce } from './stats.service';
import { isUUID } from 'class-validator';

/** The `follow` reward rule (rewards module), paid once per fan and creator. */
export const FOLLOW_ACTION = 'follow';

const isCardCursor = (v: unknown): v is [number, string] =>
  Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && (v[0] as number) >= 0 && typeof v[1] === 'string' && isUUID(v[1]);

/**
 * Follows: idempotent in both directions (a repeat changes nothing and answers the same card),
 * never oneself, only creators. The first follow of a fan and creator grants the `follow`
 * reward in the same transaction; the rewards table's unique (user, action, target) makes it
 * once ever, however often the fan unfollows and follows again.
 */
@Injectable()
export class FollowsService {
  private readonly logger = new Logger('Creator');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: CreatorRepository,
    private readonly rewards: RewardsService,
    private readonly live: CreatorLive,
  ) {}

  async profile(user: AuthUser, creatorId: string): Promise<CreatorCard> {
    const card = await this.repo.card(creatorId, user.id);
    if (!card) throw notFound('Creator not found');
    return toCard(card);
  }

  async list(user: AuthUser, q: { limit?: unknown; cursor?: unknown }): Promise<Page<CreatorCard>> {
    const limit = parseLimit(q.limit);
    const cursor = decodeCursor(q.cursor, isCardCursor);
    const rows = await this.repo.listCreators(user.id, limit, cursor);
    return toPage(rows, limit, toCard, (r) => [Number(r.followers), r.id]);
  }

  async follow(user: AuthUser, creatorId: string): Promise<CreatorCard> {
    enforce(decideFollow(user.id, creatorId, await this.repo.isCreator(creatorId)));
    const { changed, card } = await withTransaction(this.ds, async (tx) => {
      const changed = await this.repo.follow(tx, creatorId, user.id);
      if (changed) {
        const r = await this.rewards.grant({ userId: user.id, action: FOLLOW_ACTION, targetId: creatorId }, tx);
        if (r.status !== 'queued' && r.status !== 'duplicate') this.logger.debug(`follow reward for ${user.id} → ${creatorId}: ${r.status}`);
      }
      return { changed, card: await this.repo.card(creatorId, user.id, tx) };
    });
    if (!card) throw notFound('Creator not found');
    if (changed) await this.live.changed(creatorId);
    return toCard(card);
  }

  async unfollow(user: AuthUser, creatorId: string): Promise<CreatorCard> {
    enforce(decideFollow(user.id, creatorId, await this.repo.isCreator(creatorId)));
    const { changed, card } = await withTransaction(this.ds, async (tx) => {
      const changed = await this.repo.unfollow(tx, creatorId, user.id);
      return { changed, card: await this.repo.card(creatorId, user.id, tx) };
    });
    if (!card) throw notFound('Creator not found');
    // Fewer followers cross no milestone; the figures still change.
    if (changed) await this.live.changed(creatorId, { milestones: false });
    return toCard(card);
  }
}
