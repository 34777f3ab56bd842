import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { pgCode, withTransaction } from '../../core/database/transaction';
import { badRequest, conflict, notFound, rateLimited, unprocessable } from '../../core/http/domain-error';
import { AD_VIEW_ACTION, WATCH_MILESTONE_ACTION } from '../rewards/rewards.constants';
import { RewardsService, TriggerResult } from '../rewards/rewards.service';
import { iso } from '../../core/database/sql';
import type { ClaimAdDto, ClaimMilestoneDto, HeartbeatDto } from './dto/videos.dto';
import { toMs } from './video.rules';
import { VideoSpec, VideosService } from './videos.service';
import { WatchActivity } from './watch-activity';
import { AdProgress, CreditRules, WatchState, applyHeartbeat, beatCapacityMs, completed, initialState, milestoneNeedMs } from './watch-credit';

interface SessionRow {
  id: string;
  video_id: string;
  user_id: string;
  status: 'active' | 'superseded';
  started_at: Date;
  last_heartbeat_at: Date;
  last_position_ms: number;
  last_playing: boolean;
  last_ad_id: string | null;
  tokens_ms: number;
  beat_budget_ms: number;
  watched_ms: string;
  ad_watched_ms: string;
  max_position_ms: number;
  buckets: number;
  heartbeats: number;
  seeks: number;
  ads: Record<string, AdProgress>;
  now?: Date;
}

/** The rhythm suggested to players (they may send more often, down to the minimum interval). */
const SUGGESTED_HEARTBEAT_SECONDS = 5;

export const milestoneTarget = (videoId: string, percent: number) => `${videoId}:milestone:${percent}`;
export const adTarget = (videoId: string, adId: string) => `${videoId}:ad:${adId}`;

/**
 * Watch sessions: one active per user and video (a new one supersedes the old), heartbeats
 * turned into verified watch time (see watch-credit.ts), and milestone and ad-view claims
 * that pay through the reward pipeline once the session shows the watching.
 */
@Injectable()
export class WatchService {
  private readonly rules: CreditRules;
  /** REWARDS_MIN_AD_SECONDS: shorter ads pay nothing. */
  private readonly minAdMs: number;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly videos: VideosService,
    private readonly rewards: RewardsService,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly activity: WatchActivity,
  ) {
    this.rules = {
      minIntervalMs: config.watch.heartbeatMinIntervalMs,
      burst: config.watchBurst.heartbeats,
      toleranceMs: config.watch.clockToleranceMs,
      maxGapMs: config.watch.maxHeartbeatGapMs,
    };
    this.minAdMs = config.rewardBounds.minAdSeconds * 1000;
  }

  async start(userId: string, videoId: string) {
    await this.videos.spec(videoId);
    for (let attempt = 0; ; attempt++) {
      try {
        const row = await withTransaction(this.ds, async (tx) => {
          await tx.query(
            `UPDATE watch_sessions SET status = 'superseded', ended_at = clock_timestamp()
             WHERE user_id = $1 AND video_id = $2 AND status = 'active'`,
            [userId, videoId],
          );
          const [s] = await tx.query<SessionRow>(
            `INSERT INTO watch_sessions (video_id, user_id, started_at, last_heartbeat_at, tokens_ms, beat_budget_ms)
             VALUES ($1, $2, now(), now(), $3, $4) RETURNING *`,
            [videoId, userId, this.rules.toleranceMs, beatCapacityMs(this.rules)],
          );
          return s;
        });
        return {
          sessionId: row.id,
          videoId,
          startedAt: iso(row.started_at)!,
          minHeartbeatIntervalSeconds: this.rules.minIntervalMs / 1000,
          heartbeatIntervalSeconds: Math.max(SUGGESTED_HEARTBEAT_SECONDS, this.rules.minIntervalMs / 1000),
        };
      } catch (e) {
        // Two sessions started at the same moment: the partial unique index let one win; supersede it.
        if (pgCode(e) === '23505' && attempt < 3) continue;
        throw e;
      }
    }
  }

  async heartbeat(userId: string, videoId: string, sessionId: string, dto: HeartbeatDto) {
    const video = await this.videos.spec(videoId);
    if (dto.adId && !video.ads.some((a) => a.id === dto.adId)) throw badRequest('adId is not an ad of this video', { field: 'adId' });
    return withTransaction(this.ds, async (tx) => {
      const [row] = await tx.query<SessionRow>(`SELECT s.*, clock_timestamp() AS now FROM watch_sessions s WHERE s.id = $1 FOR UPDATE`, [sessionId]);
      if (!row || row.user_id !== userId || row.video_id !== videoId) throw notFound('Watch session not found');
      if (row.status !== 'active') throw conflict('This watch session was replaced by a newer session of the same video');
      const out = applyHeartbeat(
        toState(row, video, this.rules.toleranceMs),
        { atMs: row.now!.getTime(), positionMs: toMs(dto.positionSeconds), playing: dto.playing, adId: dto.adId ?? null },
        video,
        this.rules,
      );
      if (!out.ok) {
        throw rateLimited(
          Math.ceil(out.retryAfterMs / 1000),
          `Heartbeats are limited to one every ${this.rules.minIntervalMs / 1000} s per session (bursts of ${this.rules.burst}); retry in ${out.retryAfterMs} ms`,
        );
      }
      const s = out.state;
      await tx.query(
        `UPDATE watch_sessions SET last_heartbeat_at = $2, last_position_ms = $3, last_playing = $4, last_ad_id = $5, tokens_ms = $6,
           watched_ms = $7, ad_watched_ms = $8, max_position_ms = $9, buckets = $10, heartbeats = $11, seeks = $12, ads = $13,
           beat_budget_ms = $14
         WHERE id = $1`,
        [
          sessionId,
          row.now,
          s.lastPositionMs,
          s.lastPlaying,
          s.lastAdId,
          s.tokensMs,
          s.watchedMs,
          s.adWatchedMs,
          s.maxPositionMs,
          s.buckets,
          s.heartbeats,
          s.seeks,
          JSON.stringify(s.ads),
          s.beatBudgetMs,
        ],
      );
      if (out.creditedMs > 0) tx.afterCommit(() => this.activity.emit({ videoId, creatorId: video.creatorId }));
      return progressView(sessionId, videoId, 'active', s, video, out.creditedMs);
    });
  }

  async progress(userId: string, videoId: string, sessionId: string) {
    const video = await this.videos.spec(videoId);
    const row = await this.session(userId, videoId, sessionId);
    return progressView(sessionId, videoId, row.status, toState(row, video, this.rules.toleranceMs), video, 0);
  }

  private async session(userId: string, videoId: string, sessionId: string): Promise<SessionRow> {
    const [row] = await this.ds.query(`SELECT * FROM watch_sessions WHERE id = $1`, [sessionId]);
    if (!row || row.user_id !== userId || row.video_id !== videoId) throw notFound('Watch session not found');
    return row;
  }

  /** 202 with the reward when the session shows the watching, 422 with the reason otherwise. */
  async claimMilestone(userId: string, dto: ClaimMilestoneDto): Promise<TriggerResult> {
    const video = await this.videos.spec(dto.videoId);
    const row = await this.session(userId, dto.videoId, dto.sessionId);
    const milestone = video.milestones.find((m) => m.percent === dto.percent);
    if (!milestone) {
      const have = video.milestones.map((m) => m.percent).join(', ') || 'none';
      throw badRequest(`percent must be one of this video's milestones (${have})`, { field: 'percent' });
    }
    this.assertNotOwnVideo(userId, video);
    const target = milestoneTarget(dto.videoId, dto.percent);
    const prior = await this.rewards.existing(userId, WATCH_MILESTONE_ACTION, target);
    if (prior) return { rewardId: prior.id, status: 'duplicate', amount: prior.amount, reason: `The ${dto.percent}% milestone of this video was already rewarded` };
    const need = milestoneNeedMs(dto.percent, video.durationMs);
    const watched = Number(row.watched_ms);
    if (watched < need) {
      throw unprocessable(`Not earned yet: this session shows ${watched / 1000} s of verified watching; the ${dto.percent}% milestone needs ${need / 1000} s`, {
        reason: 'milestone_not_reached',
        watchedSeconds: watched / 1000,
        requiredSeconds: need / 1000,
      });
    }
    return this.rewards.grant({
      userId,
      action: WATCH_MILESTONE_ACTION,
      targetId: target,
      contextId: dto.videoId,
      amount: milestone.reward,
      creatorId: video.creatorId,
    });
  }

  async claimAd(userId: string, dto: ClaimAdDto): Promise<TriggerResult> {
    const video = await this.videos.spec(dto.videoId);
    const row = await this.session(userId, dto.videoId, dto.sessionId);
    const ad = video.ads.find((a) => a.id === dto.adId);
    if (!ad) throw badRequest('adId is not an ad of this video', { field: 'adId' });
    this.assertNotOwnVideo(userId, video);
    if (ad.durationMs < this.minAdMs) {
      throw unprocessable(`Ads shorter than ${this.minAdMs / 1000} s pay no reward; this one lasts ${ad.durationMs / 1000} s`, {
        reason: 'ad_too_short',
        durationSeconds: ad.durationMs / 1000,
        minimumSeconds: this.minAdMs / 1000,
      });
    }
    const target = adTarget(dto.videoId, dto.adId);
    const prior = await this.rewards.existing(userId, AD_VIEW_ACTION, target);
    if (prior) return { rewardId: prior.id, status: 'duplicate', amount: prior.amount, reason: 'This ad was already rewarded' };
    const p = toState(row, video, this.rules.toleranceMs).ads[ad.id];
    const slot = ad.position === 'pre' ? 'pre-roll' : ad.position === 'post' ? 'post-roll' : `mid-roll at ${ad.offsetMs / 1000} s`;
    if (p.reachedAtMs === null) {
      throw unprocessable(`Not earned yet: this session has not reached the ${slot}`, { reason: 'ad_slot_not_reached' });
    }
    if (p.watchedMs < ad.durationMs) {
      throw unprocessable(`Not earned yet: ${p.watchedMs / 1000} of ${ad.durationMs / 1000} s of the ${slot} watched in this session`, {
        reason: 'ad_not_watched',
        watchedSeconds: p.watchedMs / 1000,
        requiredSeconds: ad.durationMs / 1000,
      });
    }
    return this.rewards.grant({ userId, action: AD_VIEW_ACTION, targetId: target, contextId: dto.videoId, amount: ad.reward, creatorId: video.creatorId });
  }

  private assertNotOwnVideo(userId: string, video: VideoSpec) {
    if (video.creatorId === userId) throw unprocessable('Creators do not earn rewards on their own videos', { reason: 'own_video' });
  }
}

function toState(row: SessionRow, video: VideoSpec, toleranceMs: number): WatchState {
  const startedAtMs = new Date(row.started_at).getTime();
  const ads = { ...initialState(startedAtMs, video, toleranceMs).ads, ...(row.ads ?? {}) };
  return {
    startedAtMs,
    lastAtMs: new Date(row.last_heartbeat_at).getTime(),
    lastPositionMs: Number(row.last_position_ms),
    lastPlaying: row.last_playing,
    lastAdId: row.last_ad_id,
    tokensMs: Number(row.tokens_ms),
    beatBudgetMs: Number(row.beat_budget_ms ?? 0),
    watchedMs: Number(row.watched_ms),
    adWatchedMs: Number(row.ad_watched_ms),
    maxPositionMs: Number(row.max_position_ms),
    buckets: Number(row.buckets),
    heartbeats: Number(row.heartbeats),
    seeks: Number(row.seeks),
    ads,
  };
}

function progressView(sessionId: string, videoId: string, status: string, s: WatchState, video: VideoSpec, creditedMs: number) {
  return {
    sessionId,
    videoId,
    status,
    positionSeconds: s.lastPositionMs / 1000,
    durationSeconds: video.durationMs / 1000,
    watchedSeconds: s.watchedMs / 1000,
    creditedSeconds: creditedMs / 1000,
    percentWatched: Math.min(100, Math.floor((s.watchedMs * 10_000) / video.durationMs) / 100),
    completed: completed(s),
    milestonesReached: video.milestones.filter((m) => s.watchedMs >= milestoneNeedMs(m.percent, video.durationMs)).map((m) => m.percent),
    ads: video.ads.map((a) => {
      const p = s.ads[a.id];
      return {
        adId: a.id,
        position: a.position,
        reached: p?.reachedAtMs !== null && p?.reachedAtMs !== undefined,
        watchedSeconds: (p?.watchedMs ?? 0) / 1000,
        durationSeconds: a.durationMs / 1000,
        completed: !!p?.completedAtMs,
      };
    }),
    heartbeats: s.heartbeats,
    seeks: s.seeks,
  };
}
