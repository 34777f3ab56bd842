import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { RedisService } from '../../core/redis/redis.service';
import { Announcer } from '../../core/realtime/announce';
import { TYPING_TTL_MS } from './chat.rules';
import { TYPING_SWEEP_LUA, TypingRedis } from './chat.scripts';
import { chatRoomChannel, TypingEvent, TypingStarted, TypingStopped } from './chat.events';

/**
 * Typing state lives in one Redis sorted set (member `roomId|userId`, score = expiry), not in
 * any instance's memory: it survives the typist's instance dying, and every instance runs a
 * sweeper that announces `typing_stopped` for expired entries. Membership is checked by the
 * caller (ChatService).
 */
@Injectable()
export class TypingService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Typing');
  private readonly redis: TypingRedis;
  /** The Redis sorted set holding every typing entry (also used by the send path). */
  readonly key: string;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private closing = false;

  constructor(
    redisService: RedisService,
    private readonly announcer: Announcer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const client = redisService.client as TypingRedis;
    if (!(client as unknown as Record<string, unknown>).softchatTypingSweep) {
      client.defineCommand('softchatTypingSweep', { numberOfKeys: 1, lua: TYPING_SWEEP_LUA });
    }
    this.redis = client;
    this.key = redisService.key('chat', 'typing');
  }

  get ttlMs() {
    return TYPING_TTL_MS;
  }

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.tick(), this.config.messaging.chat.typingSweepMs);
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
    const added = await this.redis.zadd(this.key, Date.now() + TYPING_TTL_MS, `${roomId}|${userId}`);
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
    void this.announcer.announce(e.typing ? TypingStarted : TypingStopped, e, { roomExceptUser: [chatRoomChannel(e.roomId), e.userId] });
  }
}
