import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { num, pgConstraint } from '../../core/database/sql';
import { pgCode } from '../../core/database/transaction';
import { DomainError, badRequest, rateLimited } from '../../core/http/domain-error';
import { DEFAULT_LIMIT, Page, decodeKindCursor, kindCursor, toPage } from '../../core/http/pagination';
import { RedisService } from '../../core/redis/redis.service';
import { Announcer } from '../../core/realtime/announce';
import { ChatRepository, PendingSend } from './chat.repository';
import { CATCH_UP_LIMIT, checkContent, MAX_CONTENT_LENGTH } from './chat.rules';
import { ChatRedis, PRE_WRITE_LUA } from './chat.scripts';
import { chatRoomChannel, MessageReceived, MessagesAdded } from './chat.events';
import { CatchUp, MessageView, ReadState, toMessageView } from './chat.views';
import { ChatRooms } from './chat.rooms';
import { KeyedBatcher } from './keyed-batcher';
import { TypingService } from './typing.service';

const isRetryRace = (e: unknown) => pgCode(e) === '23505' && pgConstraint(e) === 'chat_messages_client_id_uq';

/**
 * Messages and read state: sends (rate limited, idempotent per clientMessageId, group-committed
 * per room with gapless sequences), history, catch-up and marking read. Messages are announced
 * once stored.
 */
@Injectable()
export class ChatMessages {
  /** Its own connection with auto-pipelining: one round trip per batch of sends. */
  private readonly redis: ChatRedis;
  private readonly limiterPrefix: string;
  /** Per-room group commit of sends (see the repository's SEND_BATCH_SQL). */
  private readonly writer = new KeyedBatcher<PendingSend, MessageView | null | DomainError>((roomId, items) => this.writeBatch(roomId, items), 256);
  /** Sends with a clientMessageId not yet committed on this instance: a retry waits for the original. */
  private readonly pendingClientIds = new Map<string, Promise<MessageView | null | DomainError>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    redis: RedisService,
    private readonly repo: ChatRepository,
    private readonly rooms: ChatRooms,
    private readonly announcer: Announcer,
    private readonly typing: TypingService,
  ) {
    this.redis = redis.create('chat', { enableAutoPipelining: true }) as ChatRedis;
    this.redis.defineCommand('softchatChatPreWrite', { numberOfKeys: 1, lua: PRE_WRITE_LUA });
    this.limiterPrefix = redis.key('chat-send', '');
  }

  /**
   * Stores and announces a message. A retry with the same clientMessageId (same sender, same
   * room) stores nothing and returns the original with `replayed: true`.
   */
  async send(userId: string, roomId: string, contentRaw: string, clientMessageId?: string | null): Promise<{ message: MessageView; replayed: boolean }> {
    const content = checkContent(contentRaw, MAX_CONTENT_LENGTH);
    const cmid = clientMessageId ?? null;
    const key = cmid ? `${roomId}|${userId}|${cmid}` : null;
    const earlier = key ? this.pendingClientIds.get(key) : undefined;
    if (earlier) {
      // The same retry is already being written on this instance: answer with its result.
      const original = await earlier.catch(() => null);
      if (original && !(original instanceof DomainError)) return { message: original, replayed: true };
    }
    const written = this.writer.submit(roomId, { userId, content, clientMessageId: cmid });
    if (key) {
      this.pendingClientIds.set(key, written);
      const forget = () => {
        if (this.pendingClientIds.get(key) === written) this.pendingClientIds.delete(key);
      };
      written.then(forget, forget);
    }
    const message = await written;
    if (message instanceof DomainError) throw message;
    if (message) return { message, replayed: false };
    // Not written: a retry of a stored message (same sender, room and clientMessageId), or no access.
    const stored = cmid ? await this.repo.byClientId(roomId, userId, cmid) : null;
    if (stored) {
      await this.rooms.assertMember(userId, roomId); // a replay after leaving is refused like any other write
      return { message: toMessageView(stored), replayed: true };
    }
    return this.rooms.explainNotMember(roomId);
  }

  /**
   * Writes one room's queued sends; one result per item: the stored message, null (not
   * written: a retry or no access, see send()) or the error to throw (rate limited).
   */
  private async writeBatch(roomId: string, items: PendingSend[]): Promise<(MessageView | null | DomainError)[]> {
    const out: (MessageView | null | DomainError)[] = items.map(() => null);
    const [verdicts, stoppedTyping] = await this.redis.softchatChatPreWrite(
      this.typing.key,
      this.config.messaging.chat.sendWindowSeconds * 1000,
      this.config.messaging.chat.sendLimit,
      roomId,
      this.limiterPrefix,
      ...items.map((i) => i.userId),
    );
    const allowed: number[] = [];
    verdicts.forEach((ms, i) => {
      if (Number(ms) > 0) out[i] = rateLimited(Math.max(1, Math.ceil(Number(ms) / 1000)), 'You are sending messages too fast; slow down');
      else allowed.push(i);
    });
    const batch = allowed.map((i) => items[i]);
    let written: (MessageView | null)[] = [];
    if (batch.length) {
      try {
        const found = await this.repo.sendBatch(roomId, batch);
        written = batch.map(() => null);
        const messages = found.map((r) => {
          const m = toMessageView(r);
          written[r.ord] = m;
          return m;
        });
        this.announceBatch(roomId, messages);
      } catch (e) {
        if (!isRetryRace(e)) throw e;
        // A retry raced its original on another instance: write this batch one by one.
        written = await this.writeOneByOne(roomId, batch);
      }
    }
    allowed.forEach((itemIndex, i) => (out[itemIndex] = written[i] ?? null));
    // Sending ends "typing" at once (as Stream and Slack do); announced after the messages.
    for (const userId of stoppedTyping) this.typing.announceStopped(roomId, userId);
    return out;
  }

  private async writeOneByOne(roomId: string, items: PendingSend[]): Promise<(MessageView | null)[]> {
    const out: (MessageView | null)[] = [];
    for (const item of items) {
      try {
        const row = await this.repo.sendOne(roomId, item);
        const m = row ? toMessageView(row) : null;
        if (m) this.announceBatch(roomId, [m]);
        out.push(m);
      } catch (e) {
        if (!isRetryRace(e)) throw e;
        out.push(null);
      }
    }
    return out;
  }

  /** After commit: one Socket.IO event per message, one GraphQL publish per batch. */
  private announceBatch(roomId: string, messages: MessageView[]) {
    if (!messages.length) return;
    for (const message of messages) void this.announcer.announce(MessageReceived, { roomId, message }, { room: chatRoomChannel(roomId) });
    void this.announcer.announce(MessagesAdded, { roomId, messages }, { none: true });
  }

  /**
   * History. Default: newest first, paged backwards by sequence, so messages arriving while a
   * client pages cause no gap and no repeat. With `afterSeq`: oldest first from that sequence
   * (catch-up), paged forwards.
   */
  async history(userId: string, roomId: string, opts: { limit?: number; cursor?: string; afterSeq?: number }): Promise<Page<MessageView>> {
    await this.rooms.assertMember(userId, roomId);
    const limit = opts.limit ?? DEFAULT_LIMIT;
    let forward = opts.afterSeq !== undefined;
    let bound: number | null = forward ? opts.afterSeq! : null;
    if (opts.cursor) {
      const [dir, seq] = decodeKindCursor(opts.cursor, 'msg', ['string', 'number']);
      if (dir !== 'b' && dir !== 'f') throw badRequest(['cursor is invalid or expired; pass back the nextCursor of a previous page']);
      forward = dir === 'f';
      bound = seq as number;
    }
    const found = await this.repo.history(roomId, forward, bound, limit + 1);
    return toPage(found, limit, toMessageView, (r) => kindCursor('msg', [forward ? 'f' : 'b', num(r.seq)]));
  }

  /**
   * What a reconnecting client missed: messages after `lastSeq`, oldest first. Without
   * `lastSeq`, the latest page, oldest first. Call after the socket joined the room so that
   * nothing falls between the two (duplicates are possible; clients keep messages by seq).
   */
  async catchUp(roomId: string, lastSeq: number | undefined, limit = CATCH_UP_LIMIT): Promise<CatchUp> {
    if (lastSeq === undefined) {
      const latest = await this.repo.history(roomId, false, null, DEFAULT_LIMIT + 1);
      const hasMore = latest.length > DEFAULT_LIMIT;
      return { messages: latest.slice(0, DEFAULT_LIMIT).reverse().map(toMessageView), hasMore };
    }
    const found = await this.repo.history(roomId, true, lastSeq, limit + 1);
    return { messages: found.slice(0, limit).map(toMessageView), hasMore: found.length > limit };
  }

  /** Marks the room read up to `seq` (default: everything); never moves backwards. */
  async markRead(userId: string, roomId: string, seq?: number): Promise<ReadState> {
    const found = await this.repo.markRead(roomId, userId, seq ?? null);
    if (!found) return this.rooms.explainNotMember(roomId);
    const lastReadSeq = num(found.last_read_seq);
    const lastSeq = num(found.last_seq);
    return { roomId, lastReadSeq, lastSeq, unreadCount: Math.max(0, lastSeq - lastReadSeq) };
  }
}
