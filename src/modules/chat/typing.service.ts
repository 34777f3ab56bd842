import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisService } from '../../core/redis/redis.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { ChatSettings, chatSettings } from './chat.settings';
import { chatRoomChannel, typingTopic } from './chat.topics';

/**
 * Takes every entry whose expiry has passed and removes it in the same atomic step, so when
 * several instances sweep at once each expired entry is claimed (and announced) exactly once.
 * KEYS: the typing zset. ARGV: now (ms), max entries.
 */
const SWEEP_LUA = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
`;

interface TypingRedis extends Redis {
  softchatTypingSweep(key: string, now: number, max: number): Promise<string[]>;
}

export interface TypingEvent {
  roomId: string;
  userId: string;
  typing: boolean;
}

/**
 * Typing state lives in one Redis sorted set (member `roomId|userId`, score = expiry), not in
 * any instance's memory: it survives the typist's instance dying, and every instance runs a
 * sweeper that announces `typing_stopped` for expired entries. Membership is checked by the
 * caller (ChatService).
 */
@Injectable()
export class TypingService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Typing');
  private readonly settings: ChatSettings = chatSettings();
  private readonly redis: TypingRedis;
  /** The Redis sorted set holding every typing entry (also used by the send path). */
  readonly key: string;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private closing = false;

  constructor(
    redisService: RedisService,
    private readonly publisher: RealtimePublisher,
    private readonly pubsub: GqlPubSub,
  ) {
    const client = redisService.client as TypingRedis;
    if (!(client as unknown as Record<string, unknown>).softchatTypingSweep) {
      client.defineCommand('softchatTypingSweep', { numberOfKeys: 1, lua: SWEEP_LUA });
    }
    this.redis = client;
    this.key = redisService.key('chat', 'typing');
  }

  get ttlMs() {
    return this.settings.typingTtlMs;
  }

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.tick(), this.settings.typingSweepMs);
    this.timer.unref();
  }

  async onModuleDestroy() {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private tick() {
    if (this.running || this.closing) return;
    this.running = this.sweep()
      .then(() => undefined)
      .catch((e) => this.logger.warn(`typing sweep failed: ${(e as Error).message}`))
      .finally(() => (this.running = undefined));
  }

  /** Announces typing_stopped for every expired entry; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    let total = 0;
    for (;;) {
      const due = await this.redis.softchatTypingSweep(this.key, now, 500);
      for (const member of due) {
        const [roomId, userId] = member.split('|');
        if (roomId && userId) this.announce({ roomId, userId, typing: false });
      }
      total += due.length;
      if (due.length < 500) return total;
    }
  }

  /** (Re)starts the 5 s window; announces only when the user was not already typing. */
  async start(roomId: string, userId: string): Promise<boolean> {
    const added = await this.redis.zadd(this.key, Date.now() + this.settings.typingTtlMs, `${roomId}|${userId}`);
    if (added === 1) this.announce({ roomId, userId, typing: true });
    return added === 1;
  }

  /** Stops at once (stop_typing, a sent message, leaving); announces only if the user was typing. */
  async stop(roomId: string, userId: string): Promise<boolean> {
    const removed = await this.redis.zrem(this.key, `${roomId}|${userId}`);
    if (removed === 1) this.announce({ roomId, userId, typing: false });
    return removed === 1;
  }

  /** Which of these users are typing in the room right now. */
  async typingIn(roomId: string, userIds: string[]): Promise<Set<string>> {
    if (!userIds.length) return new Set();
    const scores = await this.redis.zmscore(this.key, ...userIds.map((u) => `${roomId}|${u}`));
    const now = Date.now();
    return new Set(userIds.filter((_, i) => scores[i] !== null && Number(scores[i]) > now));
  }

  /** Announces a stop whose entry another atomic step already removed (a sent message). */
  announceStopped(roomId: string, userId: string) {
    this.announce({ roomId, userId, typing: false });
  }

  private announce(e: TypingEvent) {
    this.publisher.toRoomExceptUser(chatRoomChannel(e.roomId), e.userId, e.typing ? 'typing_started' : 'typing_stopped', {
      roomId: e.roomId,
      userId: e.userId,
    });
    this.pubsub.publish(typingTopic(e.roomId), { typingChanged: e }).catch((err) => this.logger.warn(`typing publish failed: ${err.message}`));
  }
}
