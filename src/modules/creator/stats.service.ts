import { Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { badRequest, forbidden, notFound, unprocessable } from '../../core/http/domain-error';
import { parseLimit } from '../../core/http/pagination';
import { NotificationsService } from '../notifications/notifications.service';
import type { AssetSymbol } from '../ledger/assets';
import { CreatorRepository, MilestoneRow } from './creator.repository';
import { StatsRepository, Totals } from './stats.repository';
import {
  amounts,
  buildSeries,
  canReadPrivate,
  Decision,
  DEFAULT_LADDER,
  displayValue,
  lastDays,
  Metric,
  TOP_BY,
  TopBy,
  windowGains,
} from './creator.rules';
import { CreatorStats, MilestoneView, TopContentItem, toMilestone, toTop } from './creator.views';

export function enforce(d: Decision): void {
  if (d.ok) return;
  if (d.error === 'forbidden') throw forbidden(d.message);
  if (d.error === 'not_found') throw notFound(d.message);
  throw unprocessable(d.message);
}

/** A metric's current figure in base units (see creator.rules.ts). */
export function currentOf(t: Totals, metric: Metric, asset: AssetSymbol | ''): bigint {
  switch (metric) {
    case 'followers':
      return BigInt(t.followers);
    case 'views':
      return BigInt(t.views);
    case 'watch_hours':
      return BigInt(Math.floor(t.watchedMs / 1000));
    case 'earnings':
      return t.earnings.get(asset as AssetSymbol) ?? 0n;
  }
}

/**
 * A creator's figures, computed from the real data: follows (and their history), watch
 * sessions of the creator's videos (a view is a session with verified watching), and tips net
 * of fees; the 30-day series, top content, and milestones with their progress.
 */
@Injectable()
export class StatsService {
  private readonly logger = new Logger('Creator');
  /** Creators whose default ladder this instance has made sure of (an INSERT ... ON CONFLICT, so any instance may do it). */
  private readonly laddered = new LRUCache<string, true>({ max: 10_000 });

  constructor(
    private readonly repo: CreatorRepository,
    private readonly figures: StatsRepository,
    private readonly notifications: NotificationsService,
  ) {}

  /** 403 for anyone but the creator and admins (before looking the id up), 404 for a non-creator. */
  async assertReadable(user: AuthUser, creatorId: string): Promise<void> {
    const mayAsk = user.id === creatorId || isAdmin(user);
    enforce(canReadPrivate({ id: user.id, admin: isAdmin(user) }, creatorId, mayAsk && (await this.repo.isCreator(creatorId))));
  }

  async stats(user: AuthUser, creatorId: string): Promise<CreatorStats> {
    await this.assertReadable(user, creatorId);
    return this.compute(creatorId);
  }

  async milestones(user: AuthUser, creatorId: string): Promise<MilestoneView[]> {
    await this.assertReadable(user, creatorId);
    return (await this.compute(creatorId)).milestones;
  }

  /** `nowMs`: the moment the figures are for (default: now). */
  async compute(creatorId: string, nowMs = Date.now()): Promise<CreatorStats> {
    await this.ensureLadder(creatorId);
    const now = nowMs;
    const dates = lastDays(now);
    const [totals, rows, ms] = await Promise.all([this.figures.totals(creatorId), this.figures.dayRows(creatorId, dates[0]), this.repo.milestones(creatorId)]);
    const series = buildSeries(dates, rows);
    const gains = windowGains(series, rows);
    const gainOf = (r: MilestoneRow): bigint =>
      r.metric === 'followers' ? gains.followers : r.metric === 'views' ? gains.views : r.metric === 'watch_hours' ? gains.watchSeconds : (gains.earnings.get(r.asset) ?? 0n);
    return {
      creatorId,
      followers: totals.followers,
      totalViews: totals.views,
      totalWatchSeconds: totals.watchedMs / 1000,
      earnings: amounts(totals.earnings),
      tipsCount: totals.tipsCount,
      videosCount: totals.videosCount,
      series,
      milestones: ms.map((r) => toMilestone(r, currentOf(totals, r.metric, r.asset), gainOf(r), now)),
      updatedAt: new Date(now).toISOString(),
    };
  }

  /** Public: a creator's videos ranked by views, watch time or number of tips. */
  async topContent(creatorId: string, q: { by?: unknown; limit?: unknown }): Promise<TopContentItem[]> {
    const by = (q.by ?? 'views') as TopBy;
    if (typeof by !== 'string' || !TOP_BY.includes(by)) throw badRequest(`by must be one of ${TOP_BY.join(', ')}`, { field: 'by' });
    const limit = parseLimit(q.limit, 10, 50);
    if (!(await this.repo.isCreator(creatorId))) throw notFound('Creator not found');
    return (await this.figures.topContent(creatorId, by, limit)).map(toTop);
  }

  async ensureLadder(creatorId: string): Promise<void> {
    if (this.laddered.has(creatorId)) return;
    await this.repo.ensureLadder(creatorId, DEFAULT_LADDER);
    this.laddered.set(creatorId, true);
  }

  /**
   * Marks the milestones the current figures reach (each exactly once, whoever calls at the
   * same moment) and tells the creator. Returns what this call achieved.
   */
  async achieve(creatorId: string): Promise<MilestoneRow[]> {
    await this.ensureLadder(creatorId);
    const totals = await this.figures.totals(creatorId);
    const done = await this.repo.achieve(creatorId, totals);
    for (const m of done) {
      const target = displayValue(m.metric, m.asset, BigInt(m.target));
      const what = m.metric === 'watch_hours' ? `${target} watch hours` : m.metric === 'earnings' ? `${target} ${m.asset} earned` : `${target} ${m.metric}`;
      await this.notifications
        // No dedupe key on purpose: only the one call that achieved the milestone gets here.
        .notify(creatorId, { type: 'milestone', title: 'Milestone reached', body: `You reached ${what}.`, data: { milestoneId: m.id, metric: m.metric, target, asset: m.asset || null } })
        .catch((e) => this.logger.warn(`milestone notification failed for ${m.id}: ${(e as Error).message}`));
    }
    return done;
  }
}
