import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { withTransaction } from '../../core/database/transaction';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { badRequest, forbidden, notFound } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import { formatAmount, parseAmount } from '../ledger/money';
import { AD_VIEW_ACTION, REWARD_ASSET, WATCH_MILESTONE_ACTION } from '../rewards/rewards.constants';
import { big, num as int, iso } from '../../core/database/sql';
import { MediaService } from '../media/media.service';
import { Playback, PlaybackService } from '../media/playback.service';
import { canonicalUrl, sourceFromRow, VideoSource } from '../media/source.rules';
import type { CreateVideoDto } from './dto/videos.dto';
import { MAX_DURATION_SECONDS, placeAds, thumbnailFor, toMs } from './video.rules';
import { VideoViewersService } from './video-viewers.service';
import { AdSlot, BUCKETS, LAST_BUCKET_BIT, VideoTiming } from './watch-credit';
import { isUUID } from 'class-validator';

export interface VideoAdView {
  id: string;
  position: AdSlot['position'];
  offsetSeconds: number;
  durationSeconds: number;
  reward: string;
}

export interface VideoView {
  id: string;
  creatorId: string;
  creatorUsername: string;
  title: string;
  description: string | null;
  url: string;
  source: VideoSource;
  thumbnailUrl: string | null;
  durationSeconds: number;
  viewerCount: number;
  ads: VideoAdView[];
  milestones: { percent: number; reward: string }[];
  createdAt: string;
}

/** What verification and claims need of a video; videos never change once published. */
export interface VideoSpec extends VideoTiming {
  id: string;
  creatorId: string;
  ads: (AdSlot & { reward: bigint })[];
  milestones: { percent: number; reward: bigint }[];
}

interface VideoRow {
  id: string;
  creator_id: string;
  creator_username: string;
  title: string;
  description: string | null;
  url: string;
  thumbnail_url: string | null;
  duration_ms: number;
  source_provider: string;
  source_ref: string | null;
  created_at: Date;
}

const SPEC_CACHE_MAX = 10_000;
const secs = (ms: number | string) => Number(ms) / 1000;

/** Videos by URL with ad slots and milestones; their analytics for the creator and admins. */
@Injectable()
export class VideosService {
  private readonly specs = new Map<string, VideoSpec>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly viewers: VideoViewersService,
    private readonly media: MediaService,
    private readonly playbacks: PlaybackService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(creatorId: string, dto: CreateVideoDto): Promise<VideoView> {
    // The source, and title/duration/thumbnail from its provider when left out: 400/404/422/503 before any write.
    const media = await this.media.resolve(creatorId, {
      source: dto.source,
      url: dto.url,
      title: dto.title,
      durationMs: dto.durationSeconds === undefined || dto.durationSeconds === null ? null : toMs(dto.durationSeconds),
      thumbnailUrl: dto.thumbnailUrl,
      description: dto.description,
    });
    const durationMs = media.durationMs;
    const ads = dto.ads ?? [];
    const milestones = dto.milestones ?? [];
    const { offsets, problems } = placeAds(durationMs, ads);
    if (durationMs > MAX_DURATION_SECONDS * 1000) problems.push(`durationSeconds must be at most ${MAX_DURATION_SECONDS} (the provider says ${durationMs / 1000})`);
    const percents = milestones.map((m) => m.percent);
    if (new Set(percents).size !== percents.length) problems.push('milestones must have distinct percents');
    const max = parseAmount(this.config.rewards.maxVideoReward, REWARD_ASSET, 'REWARDS_MAX_VIDEO_REWARD', { allowZero: true });
    const defaults: Record<string, bigint> = {};
    for (const r of await this.ds.query(`SELECT action, amount FROM reward_rules WHERE action = ANY($1)`, [[AD_VIEW_ACTION, WATCH_MILESTONE_ACTION]])) {
      defaults[r.action] = big(r.amount);
    }
    const reward = (raw: string | undefined, field: string, action: string): bigint => {
      const v = raw === undefined || raw === null ? (defaults[action] ?? 0n) : parseAmount(raw, REWARD_ASSET, field);
      if (v > max) problems.push(`${field} must be at most ${formatAmount(max, REWARD_ASSET)} SOFT`);
      if (v <= 0n) problems.push(`${field} must be greater than zero`);
      return v;
    };
    const adRewards = ads.map((a, i) => reward(a.reward, `ads[${i}].reward`, AD_VIEW_ACTION));
    const msRewards = milestones.map((m, i) => reward(m.reward, `milestones[${i}].reward`, WATCH_MILESTONE_ACTION));
    if (problems.length) throw badRequest(problems);

    const id = await withTransaction(this.ds, async (tx) => {
      const videoId = randomUUID();
      const url = canonicalUrl(media.source, videoId);
      const [v] = await tx.query(
        `INSERT INTO videos (id, creator_id, title, description, url, thumbnail_url, duration_ms, source_provider, source_ref)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [videoId, creatorId, media.title, media.description, url, media.thumbnailUrl ?? thumbnailFor(url), durationMs, media.source.provider, media.ref],
      );
      if (media.uploadId) await this.media.attachUpload(tx, media.uploadId, videoId);
      for (let i = 0; i < ads.length; i++) {
        await tx.query(`INSERT INTO video_ads (video_id, ord, position, offset_ms, duration_ms, reward) VALUES ($1, $2, $3, $4, $5, $6)`, [
          v.id,
          i,
          ads[i].position,
          offsets[i],
          toMs(ads[i].durationSeconds),
          adRewards[i].toString(),
        ]);
      }
      for (let i = 0; i < milestones.length; i++) {
        await tx.query(`INSERT INTO video_milestones (video_id, percent, reward) VALUES ($1, $2, $3)`, [v.id, milestones[i].percent, msRewards[i].toString()]);
      }
      return v.id as string;
    });
    return this.get(id);
  }

  async list(q: { limit?: unknown; cursor?: unknown; creatorId?: string }): Promise<Page<VideoView>> {
    const limit = parseLimit(q.limit);
    // The cursor is the last video's id; its (created_at, id) is read back exactly (microseconds).
    const cursor = decodeCursor(q.cursor, (v): v is string => typeof v === 'string' && isUUID(v));
    const params: unknown[] = [limit + 1];
    const where: string[] = [];
    if (q.creatorId) {
      params.push(q.creatorId);
      where.push(`v.creator_id = $${params.length}`);
    }
    if (cursor) {
      params.push(cursor);
      where.push(`(v.created_at, v.id) < (SELECT c.created_at, c.id FROM videos c WHERE c.id = $${params.length})`);
    }
    const rows: VideoRow[] = await this.ds.query(
      `SELECT v.*, u.username AS creator_username FROM videos v JOIN users u ON u.id = v.creator_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY v.created_at DESC, v.id DESC LIMIT $1`,
      params,
    );
    const page = toPage(rows, limit, (r) => r, (r) => r.id);
    return { items: await this.views(page.items), nextCursor: page.nextCursor };
  }

  async get(videoId: string): Promise<VideoView> {
    const rows: VideoRow[] = await this.ds.query(
      `SELECT v.*, u.username AS creator_username FROM videos v JOIN users u ON u.id = v.creator_id WHERE v.id = $1`,
      [videoId],
    );
    if (!rows.length) throw notFound('Video not found');
    return (await this.views(rows))[0];
  }

  private async views(rows: VideoRow[]): Promise<VideoView[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const [ads, milestones, counts] = await Promise.all([
      this.ds.query(`SELECT * FROM video_ads WHERE video_id = ANY($1) ORDER BY video_id, ord`, [ids]),
      this.ds.query(`SELECT * FROM video_milestones WHERE video_id = ANY($1) ORDER BY video_id, percent`, [ids]),
      this.viewers.counts(ids),
    ]);
    return rows.map((r) => ({
      id: r.id,
      creatorId: r.creator_id,
      creatorUsername: r.creator_username,
      title: r.title,
      description: r.description,
      url: r.url,
      source: sourceFromRow(r.source_provider, r.source_ref, r.url),
      thumbnailUrl: r.thumbnail_url,
      durationSeconds: secs(r.duration_ms),
      viewerCount: counts.get(r.id) ?? 0,
      ads: ads
        .filter((a: any) => a.video_id === r.id)
        .map((a: any) => ({
          id: a.id,
          position: a.position,
          offsetSeconds: secs(a.offset_ms),
          durationSeconds: secs(a.duration_ms),
          reward: formatAmount(big(a.reward), REWARD_ASSET),
        })),
      milestones: milestones
        .filter((m: any) => m.video_id === r.id)
        .map((m: any) => ({ percent: Number(m.percent), reward: formatAmount(big(m.reward), REWARD_ASSET) })),
      createdAt: iso(r.created_at)!,
    }));
  }

  /** A short-lived URL to play the video (signed where its source allows). */
  async playback(videoId: string): Promise<Playback> {
    const [v] = await this.ds.query(`SELECT source_provider, source_ref, url FROM videos WHERE id = $1`, [videoId]);
    if (!v) throw notFound('Video not found');
    return this.playbacks.playback(videoId, sourceFromRow(v.source_provider, v.source_ref, v.url));
  }

  /** The video's timing, ads and milestones (cached: published videos never change). */
  async spec(videoId: string): Promise<VideoSpec> {
    const cached = this.specs.get(videoId);
    if (cached) return cached;
    const [v] = await this.ds.query(`SELECT id, creator_id, duration_ms FROM videos WHERE id = $1`, [videoId]);
    if (!v) throw notFound('Video not found');
    const [ads, milestones] = await Promise.all([
      this.ds.query(`SELECT id, position, offset_ms, duration_ms, reward FROM video_ads WHERE video_id = $1 ORDER BY ord`, [videoId]),
      this.ds.query(`SELECT percent, reward FROM video_milestones WHERE video_id = $1 ORDER BY percent`, [videoId]),
    ]);
    const spec: VideoSpec = {
      id: v.id,
      creatorId: v.creator_id,
      durationMs: Number(v.duration_ms),
      ads: ads.map((a: any) => ({ id: a.id, position: a.position, offsetMs: Number(a.offset_ms), durationMs: Number(a.duration_ms), reward: big(a.reward) })),
      milestones: milestones.map((m: any) => ({ percent: Number(m.percent), reward: big(m.reward) })),
    };
    if (this.specs.size >= SPEC_CACHE_MAX) this.specs.delete(this.specs.keys().next().value!);
    this.specs.set(videoId, spec);
    return spec;
  }

  /**
   * YouTube-style figures from verified watch sessions. A view is a session that played
   * some content; completion is playing the last 5 %; retention is the share of views that
   * played each 5 % slice.
   */
  async analytics(user: AuthUser, videoId: string) {
    const spec = await this.spec(videoId);
    if (spec.creatorId !== user.id && !isAdmin(user)) throw forbidden("Only the video's creator and admins may read its analytics");
    const [[agg], slices, ads, [paid], live] = await Promise.all([
      this.ds.query(
        `SELECT COUNT(*) FILTER (WHERE watched_ms > 0) AS views,
                COUNT(DISTINCT user_id) FILTER (WHERE watched_ms > 0) AS unique_viewers,
                COALESCE(SUM(watched_ms), 0) AS watched_ms,
                COUNT(*) FILTER (WHERE watched_ms > 0 AND (buckets & $2) <> 0) AS completed
         FROM watch_sessions WHERE video_id = $1`,
        [videoId, LAST_BUCKET_BIT],
      ),
      this.ds.query(
        `SELECT b, COUNT(*) AS viewers FROM watch_sessions s CROSS JOIN generate_series(0, ${BUCKETS - 1}) AS b
         WHERE s.video_id = $1 AND s.watched_ms > 0 AND (s.buckets & (1 << b)) <> 0 GROUP BY b`,
        [videoId],
      ),
      this.ds.query(
        `SELECT a.key AS ad_id,
                COUNT(*) FILTER (WHERE a.value->>'startedAtMs' IS NOT NULL AND a.value->>'startedAtMs' <> 'null') AS impressions,
                COUNT(*) FILTER (WHERE a.value->>'completedAtMs' IS NOT NULL AND a.value->>'completedAtMs' <> 'null') AS completions
         FROM watch_sessions s CROSS JOIN LATERAL jsonb_each(s.ads) AS a
         WHERE s.video_id = $1 GROUP BY a.key`,
        [videoId],
      ),
      this.ds.query(`SELECT COALESCE(SUM(amount), 0) AS amount, COUNT(*) AS count FROM rewards WHERE context_id = $1 AND status = 'paid'`, [videoId]),
      this.viewers.count(videoId),
    ]);
    const views = int(agg.views);
    const byBucket = new Map<number, number>(slices.map((s: any) => [Number(s.b), int(s.viewers)]));
    const byAd = new Map<string, { impressions: number; completions: number }>(
      ads.map((a: any) => [a.ad_id, { impressions: int(a.impressions), completions: int(a.completions) }]),
    );
    const adStats = spec.ads.map((a) => ({ adId: a.id, position: a.position, ...(byAd.get(a.id) ?? { impressions: 0, completions: 0 }) }));
    const totalMs = int(agg.watched_ms);
    const ratio = (n: number) => (views ? Math.round((n / views) * 10_000) / 10_000 : 0);
    return {
      videoId,
      views,
      uniqueViewers: int(agg.unique_viewers),
      totalWatchSeconds: totalMs / 1000,
      averageWatchSeconds: views ? Math.round(totalMs / views) / 1000 : 0,
      completionRate: ratio(int(agg.completed)),
      retention: Array.from({ length: BUCKETS }, (_, b) => ({ percent: b * (100 / BUCKETS), viewers: byBucket.get(b) ?? 0, rate: ratio(byBucket.get(b) ?? 0) })),
      adImpressions: adStats.reduce((s, a) => s + a.impressions, 0),
      adCompletions: adStats.reduce((s, a) => s + a.completions, 0),
      ads: adStats,
      rewardsPaid: formatAmount(big(paid.amount), REWARD_ASSET),
      rewardsPaidCount: int(paid.count),
      liveViewers: live,
    };
  }
}
