import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { Announcer } from '../../core/realtime/announce';
import { userRoom } from '../../core/realtime/events';
import { RedisService } from '../../core/redis/redis.service';
import { NotificationsService } from '../notifications/notifications.service';
import { BattleViewersService } from './battle-viewers.service';
import type { BattleUpdateView } from './battle.views';
import { BattleEnded, BattleUpdated, battleRoom } from './battles.events';
import { BattlesRepository } from './battles.repository';

/** At most one `battle_update` per battle per window, across all instances: a few a second. */
export const UPDATE_WINDOW_MS = 250;

/**
 * Opens the battle's announcement window when something changed since the last announcement
 * and no instance announced within the window. KEYS: gate, version, announced. ARGV: windowMs.
 * Returns {announce (0|1), retryAfterMs}.
 */
const GATE_LUA = `
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
local a = tonumber(redis.call('GET', KEYS[3]) or '0')
if v <= a then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then return {0, ttl} end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SET', KEYS[3], v, 'PX', 86400000)
return {1, 0}
`;

interface GateRedis extends Redis {
  softchatBattleGate(gate: string, version: string, announced: string, windowMs: number): Promise<[number, number]>;
}

/**
 * Coalesced live updates of a battle. Every change (a committed vote, a viewer joining or
 * leaving, on any instance) bumps the battle's version in Redis and asks for an announcement;
 * one instance at a time opens a 250 ms window and, only then, reads the tallies from Postgres,
 * so the payload holds every change up to the version it announces, and later announcements
 * never carry older tallies. Changes inside a window are picked up by a trailing check when it
 * closes, so the last state of a burst is always sent: a burst of 1,000 votes gives about four
 * `battle_update`s a second, each with the full tallies and viewer count.
 */
@Injectable()
export class BattleUpdatesService implements OnModuleDestroy {
  private readonly logger = new Logger('BattleUpdates');
  private readonly redis: GateRedis;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private closing = false;

  constructor(
    private readonly redisService: RedisService,
    private readonly repo: BattlesRepository,
    private readonly viewers: BattleViewersService,
    private readonly announcer: Announcer,
    private readonly notifications: NotificationsService,
  ) {
    const client = redisService.client as GateRedis;
    if (!(client as unknown as Record<string, unknown>).softchatBattleGate) client.defineCommand('softchatBattleGate', { numberOfKeys: 3, lua: GATE_LUA });
    this.redis = client;
    viewers.onChange = (battleId) => this.changed(battleId);
  }

  onModuleDestroy() {
    this.closing = true;
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  private k(battleId: string, part: string) {
    return this.redisService.key('battle-updates', battleId, part);
  }

  /** Something about the battle changed (after commit). */
  changed(battleId: string): void {
    if (this.closing) return;
    void (async () => {
      await this.redis.multi().incr(this.k(battleId, 'version')).pexpire(this.k(battleId, 'version'), 86_400_000).exec();
      if (!this.pending.has(battleId)) await this.tryAnnounce(battleId);
    })().catch((e) => this.logger.warn(`battle update failed: ${(e as Error).message}`));
  }

  private async tryAnnounce(battleId: string): Promise<void> {
    const [open, retryAfterMs] = await this.redis.softchatBattleGate(
      this.k(battleId, 'gate'),
      this.k(battleId, 'version'),
      this.k(battleId, 'announced'),
      UPDATE_WINDOW_MS,
    );
    if (open === 1) {
      await this.emit(battleId);
      this.schedule(battleId, UPDATE_WINDOW_MS + 5);
    } else if (Number(retryAfterMs) > 0) {
      this.schedule(battleId, Number(retryAfterMs) + 5);
    }
  }

  private schedule(battleId: string, ms: number) {
    if (this.closing || this.pending.has(battleId)) return;
    const t = setTimeout(() => {
      this.pending.delete(battleId);
      void this.tryAnnounce(battleId).catch((e) => this.logger.warn(`battle update failed: ${(e as Error).message}`));
    }, ms);
    t.unref();
    this.pending.set(battleId, t);
  }

  /** The current state of a battle as `battle_update` / `battleUpdated` carry it. */
  async snapshot(battleId: string): Promise<BattleUpdateView | null> {
    const [battle, tallies, viewerCount] = await Promise.all([this.repo.find(battleId), this.repo.tallies(battleId), this.viewers.count(battleId)]);
    if (!battle) return null;
    return {
      battleId,
      votes: tallies.map((t) => ({ userId: t.user_id, votes: Number(t.votes) })),
      viewerCount,
      status: battle.status,
      winnerId: battle.winner_id,
      endsAt: new Date(battle.ends_at).toISOString(),
    };
  }

  private async emit(battleId: string, also: string[] = []) {
    const s = await this.snapshot(battleId);
    if (!s) return;
    await this.announcer.announce(BattleUpdated, s, { room: [battleRoom(battleId), ...also] });
  }

  /**
   * The battle closed (after commit): its final state, unthrottled, then `battle_ended` to its
   * viewers and participants, and an inbox notification to the participants and the creator
   * (deduplicated per battle).
   */
  async ended(battleId: string, result: { title: string; createdBy: string; winnerId: string | null; winnerIds: string[]; resultHash: string; participantIds: string[] }) {
    const rooms = result.participantIds.map(userRoom);
    await this.emit(battleId, rooms);
    void this.announcer.announce(
      BattleEnded,
      { battleId, winnerId: result.winnerId, resultHash: result.resultHash, winnerIds: result.winnerIds },
      { room: [battleRoom(battleId), ...rooms] },
    );
    const outcome = result.winnerId ? 'a winner' : result.winnerIds.length ? 'a draw' : 'no votes';
    await this.notifications
      .notify(
        [...result.participantIds, result.createdBy],
        { type: 'battle', title: `Battle ended: ${result.title}`.slice(0, 200), body: `"${result.title}" ended with ${outcome}.`, data: { battleId, winnerId: result.winnerId, winnerIds: result.winnerIds, resultHash: result.resultHash } },
        { dedupeKey: `battle:${battleId}:ended` },
      )
      .catch((e) => this.logger.warn(`battle end notification failed for ${battleId}: ${(e as Error).message}`));
  }
}
