import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AssetSymbol } from '../ledger/assets';
import type { DayRows, TopBy } from './creator.rules';

export interface Totals {
  followers: number;
  views: number;
  watchedMs: number;
  tipsCount: number;
  videosCount: number;
  /** Net of fees, per asset, in minor units. */
  earnings: Map<AssetSymbol, bigint>;
}

export interface TopRow {
  id: string;
  title: string;
  thumbnail_url: string | null;
  views: string;
  watched_ms: string;
  tips_count: string;
  tips: { asset: AssetSymbol; amount: string }[] | null;
}

const TOP_ORDER: Record<TopBy, string> = {
  views: 'views DESC, watched_ms DESC',
  watchTime: 'watched_ms DESC, views DESC',
  // Tips in different assets cannot be added up without prices: ranked by how many were given.
  tips: 'tips_count DESC, views DESC',
};

/** The SQL of a creator's figures: totals, per-day rows for the series, and top content. */
@Injectable()
export class StatsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async totals(creatorId: string): Promise<Totals> {
    const [[a], earnings] = await Promise.all([
      this.ds.query(
        `SELECT (SELECT COALESCE(followers, 0) FROM creator_counters WHERE creator_id = $1) AS followers,
                (SELECT COUNT(*) FROM videos WHERE creator_id = $1) AS videos,
                (SELECT COUNT(*) FROM creator_tips WHERE creator_id = $1) AS tips,
                w.views, w.watched_ms
         FROM (SELECT COUNT(*) FILTER (WHERE s.watched_ms > 0) AS views, COALESCE(SUM(s.watched_ms), 0) AS watched_ms
               FROM watch_sessions s JOIN videos v ON v.id = s.video_id WHERE v.creator_id = $1) w`,
        [creatorId],
      ),
      this.ds.query(`SELECT asset, SUM(amount - fee) AS net FROM creator_tips WHERE creator_id = $1 GROUP BY asset`, [creatorId]),
    ]);
    return {
      followers: Number(a.followers ?? 0),
      views: Number(a.views),
      watchedMs: Number(a.watched_ms),
      tipsCount: Number(a.tips),
      videosCount: Number(a.videos),
      earnings: new Map(earnings.map((e: { asset: AssetSymbol; net: string }) => [e.asset, BigInt(e.net)])),
    };
  }

  /** Per UTC day since `start` (YYYY-MM-DD). */
  async dayRows(creatorId: string, start: string): Promise<DayRows> {
    const day = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
    const since = `($2::date)::timestamp AT TIME ZONE 'UTC'`;
    const [[before], follows, watching, tips] = await Promise.all([
      this.ds.query(`SELECT COALESCE(SUM(delta), 0) AS n FROM creator_follow_events WHERE creator_id = $1 AND created_at < ${since}`, [creatorId, start]),
      this.ds.query(
        `SELECT ${day('created_at')} AS day, SUM(delta) AS net, COUNT(*) FILTER (WHERE delta = 1) AS added
         FROM creator_follow_events WHERE creator_id = $1 AND created_at >= ${since} GROUP BY 1`,
        [creatorId, start],
      ),
      this.ds.query(
        `SELECT ${day('s.started_at')} AS day, COUNT(*) FILTER (WHERE s.watched_ms > 0) AS views, COALESCE(SUM(s.watched_ms), 0) AS watched_ms
         FROM watch_sessions s JOIN videos v ON v.id = s.video_id
         WHERE v.creator_id = $1 AND s.started_at >= ${since} GROUP BY 1`,
        [creatorId, start],
      ),
      this.ds.query(
        `SELECT ${day('created_at')} AS day, asset, COUNT(*) AS count, SUM(amount - fee) AS net
         FROM creator_tips WHERE creator_id = $1 AND created_at >= ${since} GROUP BY 1, 2`,
        [creatorId, start],
      ),
    ]);
    return {
      followersBefore: Number(before.n),
      follows: follows.map((r: any) => ({ day: r.day, net: Number(r.net), added: Number(r.added) })),
      watching: watching.map((r: any) => ({ day: r.day, views: Number(r.views), watchedMs: Number(r.watched_ms) })),
      tips: tips.map((r: any) => ({ day: r.day, asset: r.asset, count: Number(r.count), net: BigInt(r.net) })),
    };
  }

  topContent(creatorId: string, by: TopBy, limit: number): Promise<TopRow[]> {
    return this.ds.query(
      `SELECT v.id, v.title, v.thumbnail_url, w.views, w.watched_ms, COALESCE(t.tips_count, 0) AS tips_count, t.tips
       FROM videos v
       CROSS JOIN LATERAL (SELECT COUNT(*) FILTER (WHERE s.watched_ms > 0) AS views, COALESCE(SUM(s.watched_ms), 0) AS watched_ms
                           FROM watch_sessions s WHERE s.video_id = v.id) w
       LEFT JOIN LATERAL (SELECT SUM(x.c) AS tips_count, json_agg(json_build_object('asset', x.asset, 'amount', x.amount::text) ORDER BY x.asset) AS tips
                          FROM (SELECT asset, COUNT(*) AS c, SUM(amount) AS amount FROM creator_tips WHERE video_id = v.id GROUP BY asset) x) t ON true
       WHERE v.creator_id = $1
       ORDER BY ${TOP_ORDER[by]}, v.created_at DESC, v.id
       LIMIT $2`,
      [creatorId, limit],
    );
  }
}
