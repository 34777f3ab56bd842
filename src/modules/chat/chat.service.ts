import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type Redis from 'ioredis';
import { RedisService } from '../../core/redis/redis.service';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { DomainError, badRequest, forbidden, notFound, rateLimited } from '../../core/http/domain-error';
import { PresenceService } from '../presence/presence.service';
import { PresenceStatus } from '../presence/presence.rules';
import { ChatSettings, chatSettings } from './chat.settings';
import { chatRoomChannel, leftTopic, messageTopic } from './chat.topics';
import { DEFAULT_LIMIT, Page, decodeCursor, encodeCursor, toPage } from './common/cursor';
import { inTransaction, iso, num, pgCode, rows } from './common/sql';
import { RoomRole } from './entities/chat-room-member.entity';
import { TypingService } from './typing.service';
import { KeyedBatcher } from './common/keyed-batcher';
import { checkContent, checkRoomName } from './chat.rules';

export interface MessageView {
  id: string;
  roomId: string;
  /** Per-room sequence: gapless, increasing in commit order. */
  seq: number;
  senderId: string | null;
  senderUsername: string | null;
  content: string;
  clientMessageId: string | null;
  createdAt: string;
}

export interface RoomView {
  id: string;
  name: string;
  isPrivate: boolean;
  createdBy: string | null;
  createdAt: string;
  lastSeq: number;
  lastMessageAt: string | null;
  memberCount: number;
  /** `system`: created by the platform (a P2P trade chat), no owner, fixed membership. */
  kind: 'user' | 'system';
  /** The caller's membership (null when the caller is not a member of this public room). */
  role: RoomRole | null;
  lastReadSeq: number | null;
  unreadCount: number | null;
}

export interface RoomUserView {
  userId: string;
  username: string;
  online: boolean;
  status: PresenceStatus;
  typing: boolean;
  lastSeenAt: string | null;
  role: RoomRole;
  joinedAt: string;
}

export interface ReadState {
  roomId: string;
  lastReadSeq: number;
  lastSeq: number;
  unreadCount: number;
}

export interface CatchUp {
  messages: MessageView[];
  /** More messages follow the returned ones: fetch them with `GET .../messages?afterSeq=`. */
  hasMore: boolean;
}

interface MessageRow {
  id: string;
  room_id: string;
  seq: string;
  sender_id: string | null;
  sender_username: string | null;
  content: string;
  client_message_id: string | null;
  created_at: Date;
}

interface RoomRow {
  id: string;
  name: string;
  is_private: boolean;
  created_by: string | null;
  created_at: Date;
  last_seq: string;
  last_message_at: Date | null;
  member_count: number;
  kind: 'user' | 'system';
  role: RoomRole | null;
  last_read_seq: string | null;
  cursor_at: string;
}

const MESSAGE_COLUMNS = `m.id, m.room_id, m.seq, m.sender_id, u.username AS sender_username, m.content, m.client_message_id, m.created_at`;

/** A room as the given user ($1) sees it. */
const ROOM_SELECT = `
  SELECT r.id, r.name, r.is_private, r.kind, r.created_by, r.created_at, r.last_seq, r.last_message_at,
         (SELECT count(*) FROM chat_room_members c WHERE c.room_id = r.id)::int AS member_count,
         m.role, m.last_read_seq, COALESCE(m.joined_at, r.created_at)::text AS cursor_at
  FROM chat_rooms r
  LEFT JOIN chat_room_members m ON m.room_id = r.id AND m.user_id = $1`;

/**
 * The one-message form (used when a batch has to be retried message by message).
 * One statement, one round trip, one implicit transaction: checks membership, takes the next
 * sequence number under the room row's lock (so concurrent senders on any instance get
 * 1, 2, 3... with no gap and no repeat), stores the message and marks it read for its
 * sender. A retried clientMessageId takes nothing (NOT EXISTS); two retries racing each other
 * meet the unique index, which aborts the whole statement, so no sequence is burnt either way.
 */
const SEND_SQL = `
  WITH r AS (
    UPDATE chat_rooms SET last_seq = last_seq + 1, last_message_at = now()
    WHERE id = $1::uuid
      AND EXISTS (SELECT 1 FROM chat_room_members WHERE room_id = $1::uuid AND user_id = $2::uuid)
      AND ($4::varchar IS NULL OR NOT EXISTS (
        SELECT 1 FROM chat_messages WHERE room_id = $1::uuid AND sender_id = $2::uuid AND client_message_id = $4::varchar))
    RETURNING last_seq
  ), m AS (
    INSERT INTO chat_messages (room_id, seq, sender_id, content, client_message_id)
    SELECT $1::uuid, r.last_seq, $2::uuid, $3::text, $4::varchar FROM r
    RETURNING id, room_id, seq, sender_id, content, client_message_id, created_at
  ), rd AS (
    UPDATE chat_room_members SET last_read_seq = m.seq FROM m
    WHERE chat_room_members.room_id = $1::uuid AND chat_room_members.user_id = $2::uuid
  )
  SELECT m.id, m.room_id, m.seq, m.sender_id, u.username AS sender_username, m.content, m.client_message_id, m.created_at
  FROM m LEFT JOIN users u ON u.id = m.sender_id`;

/**
 * Group commit: all the messages queued for one room while its previous write was in flight,
 * in one statement. Senders who are not members and retried clientMessageIds are filtered
 * out first, then the room row is locked once and advanced by the number of new messages,
 * which are numbered in arrival order; so sequences stay gapless and unique whatever the
 * batching and however many instances write. Returns `ord` to map rows back to callers.
 */
const SEND_BATCH_SQL = `
  WITH input AS (
    SELECT * FROM unnest($2::int[], $3::uuid[], $4::text[], $5::varchar[]) AS t(ord, sender_id, content, client_message_id)
  ), fresh AS (
    SELECT i.* FROM input i
    WHERE EXISTS (SELECT 1 FROM chat_room_members m WHERE m.room_id = $1::uuid AND m.user_id = i.sender_id)
      AND (i.client_message_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM chat_messages c WHERE c.room_id = $1::uuid AND c.sender_id = i.sender_id AND c.client_message_id = i.client_message_id))
  ), r AS (
    UPDATE chat_rooms SET last_seq = last_seq + (SELECT count(*) FROM fresh), last_message_at = now()
    WHERE id = $1::uuid AND EXISTS (SELECT 1 FROM fresh)
    RETURNING last_seq
  ), numbered AS (
    SELECT f.*, r.last_seq - (SELECT count(*) FROM fresh) + row_number() OVER (ORDER BY f.ord) AS seq FROM fresh f CROSS JOIN r
  ), m AS (
    INSERT INTO chat_messages (room_id, seq, sender_id, content, client_message_id)
    SELECT $1::uuid, seq, sender_id, content, client_message_id FROM numbered
    RETURNING id, room_id, seq, sender_id, content, client_message_id, created_at
  ), rd AS (
    UPDATE chat_room_members SET last_read_seq = x.seq
    FROM (SELECT sender_id, max(seq) AS seq FROM m GROUP BY sender_id) x
    WHERE chat_room_members.room_id = $1::uuid AND chat_room_members.user_id = x.sender_id
  )
  SELECT n.ord, m.id, m.room_id, m.seq, m.sender_id, u.username AS sender_username, m.content, m.client_message_id, m.created_at
  FROM m JOIN numbered n ON n.seq = m.seq LEFT JOIN users u ON u.id = m.sender_id
  ORDER BY m.seq`;

interface PendingSend {
  userId: string;
  content: string;
  clientMessageId: string | null;
}

/**
 * Before a batch is written, one Redis call for all of it: each message takes a point from
 * its sender's fixed window (shared by every instance and transport), and the senders allowed
 * to send stop typing. KEYS: typing zset. ARGV: windowMs, limit, roomId, limiter key prefix,
 * then the senders. Returns {per message: 0 = allowed, else ms until the window resets;
 * senders whose typing entry was removed}.
 */
const PRE_WRITE_LUA = `
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local room = ARGV[3]
local prefix = ARGV[4]
local verdicts, stopped, seen = {}, {}, {}
for i = 5, #ARGV do
  local u = ARGV[i]
  local k = prefix .. u
  local c = redis.call('INCR', k)
  if c == 1 then redis.call('PEXPIRE', k, window) end
  if c > limit then
    local ttl = redis.call('PTTL', k)
    if ttl < 0 then redis.call('PEXPIRE', k, window) ttl = window end
    table.insert(verdicts, ttl)
  else
    table.insert(verdicts, 0)
    if not seen[u] then
      seen[u] = true
      if redis.call('ZREM', KEYS[1], room .. '|' .. u) == 1 then table.insert(stopped, u) end
    end
  end
end
return {verdicts, stopped}
`;

interface ChatRedis extends Redis {
  softchatChatPreWrite(typingKey: string, windowMs: number, limit: number, roomId: string, prefix: string, ...senders: string[]): Promise<[number[], string[]]>;
}

export function toMessageView(r: MessageRow): MessageView {
  return {
    id: r.id,
    roomId: r.room_id,
    seq: num(r.seq),
    senderId: r.sender_id,
    senderUsername: r.sender_username ?? null,
    content: r.content,
    clientMessageId: r.client_message_id,
    createdAt: iso(r.created_at)!,
  };
}

function toRoomView(r: RoomRow): RoomView {
  const lastSeq = num(r.last_seq);
  const member = r.role !== null && r.role !== undefined;
  const lastRead = member ? num(r.last_read_seq) : null;
  return {
    id: r.id,
    name: r.name,
    isPrivate: r.is_private,
    createdBy: r.created_by,
    createdAt: iso(r.created_at)!,
    lastSeq,
    lastMessageAt: iso(r.last_message_at),
    memberCount: Number(r.member_count),
    kind: r.kind ?? 'user',
    role: member ? r.role : null,
    lastReadSeq: lastRead,
    unreadCount: lastRead === null ? null : Math.max(0, lastSeq - lastRead),
  };
}

/**
 * Rooms, members, messages and read state. Every transport (REST, Socket.IO, GraphQL) calls
 * these methods, so the rules (members only, rate limit, idempotent sends) live here once.
 * State changes commit first; the realtime announcements follow.
 */
@Injectable()
export class ChatService {
  private readonly logger = new Logger('Chat');
  readonly settings: ChatSettings = chatSettings();
  /** Its own connection with auto-pipelining: one round trip per batch of sends. */
  private readonly redis: ChatRedis;
  private readonly limiterPrefix: string;
  /** Per-room group commit of sends (see SEND_BATCH_SQL). */
  private readonly writer = new KeyedBatcher<PendingSend, MessageView | null | DomainError>((roomId, items) => this.writeBatch(roomId, items), 256);
  /** Sends with a clientMessageId not yet committed on this instance: a retry waits for the original. */
  private readonly pendingClientIds = new Map<string, Promise<MessageView | null | DomainError>>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    redis: RedisService,
    private readonly publisher: RealtimePublisher,
    private readonly pubsub: GqlPubSub,
    private readonly typing: TypingService,
    private readonly presence: PresenceService,
  ) {
    this.redis = redis.create('chat', { enableAutoPipelining: true }) as ChatRedis;
    this.redis.defineCommand('softchatChatPreWrite', { numberOfKeys: 1, lua: PRE_WRITE_LUA });
    this.limiterPrefix = redis.key('chat-send', '');
  }

  // ---------------------------------------------------------------- rooms

  async createRoom(userId: string, input: { name: string; isPrivate?: boolean; memberIds?: string[] }): Promise<RoomView> {
    const name = checkRoomName(input.name);
    const memberIds = [...new Set(input.memberIds ?? [])].filter((id) => id !== userId);
    const roomId = await inTransaction(this.ds, async (q) => {
      const [room] = await rows<{ id: string }>(q, `INSERT INTO chat_rooms (name, is_private, created_by) VALUES ($1, $2, $3) RETURNING id`, [
        name,
        !!input.isPrivate,
        userId,
      ]);
      await rows(q, `INSERT INTO chat_room_members (room_id, user_id, role) VALUES ($1, $2, 'owner')`, [room.id, userId]);
      if (memberIds.length) {
        const added = await rows<{ user_id: string }>(
          q,
          `INSERT INTO chat_room_members (room_id, user_id, role)
           SELECT $1, u.id, 'member' FROM users u WHERE u.id = ANY($2::uuid[]) RETURNING user_id`,
          [room.id, memberIds],
        );
        if (added.length !== memberIds.length) {
          const found = new Set(added.map((a) => a.user_id));
          throw badRequest([`memberIds contains unknown users: ${memberIds.filter((id) => !found.has(id)).join(', ')}`]);
        }
      }
      return room.id;
    });
    return this.roomFor(userId, roomId);
  }

  /**
   * A private room owned by the platform (a P2P trade chat): no owner, and its membership is
   * fixed at creation (nobody adds or removes members, nobody leaves), so its transcript is
   * trustworthy evidence. Returns the room as the first member sees it.
   */
  async createSystemRoom(input: { name: string; memberIds: string[] }): Promise<RoomView> {
    const name = checkRoomName(input.name);
    const memberIds = [...new Set(input.memberIds)];
    if (!memberIds.length) throw badRequest(['memberIds must not be empty']);
    const roomId = await inTransaction(this.ds, async (q) => {
      const [room] = await rows<{ id: string }>(q, `INSERT INTO chat_rooms (name, is_private, created_by, kind) VALUES ($1, true, NULL, 'system') RETURNING id`, [name]);
      const added = await rows<{ user_id: string }>(
        q,
        `INSERT INTO chat_room_members (room_id, user_id, role) SELECT $1, u.id, 'member' FROM users u WHERE u.id = ANY($2::uuid[]) RETURNING user_id`,
        [room.id, memberIds],
      );
      if (added.length !== memberIds.length) throw badRequest(['memberIds contains unknown users']);
      return room.id;
    });
    return this.roomFor(memberIds[0], roomId);
  }

  /** The caller's rooms, most recently joined first, with unread counts. */
  async myRooms(userId: string, limit = DEFAULT_LIMIT, cursor?: string): Promise<Page<RoomView>> {
    const params: unknown[] = [userId, limit + 1];
    let where = `m.user_id = $1`;
    if (cursor) {
      const [at, id] = decodeCursor(cursor, 'mine', ['timestamp', 'uuid']);
      where += ` AND (m.joined_at, m.room_id) < ($3::timestamptz, $4::uuid)`;
      params.push(at, id);
    }
    const found = await rows<RoomRow>(
      this.ds,
      `${ROOM_SELECT.replace('LEFT JOIN chat_room_members m', 'JOIN chat_room_members m')}
       WHERE ${where} ORDER BY m.joined_at DESC, m.room_id DESC LIMIT $2`,
      params,
    ).catch(rethrowCursor);
    return toPage(found, limit, toRoomView, (r) => encodeCursor('mine', [r.cursor_at, r.id]));
  }

  /** Public rooms anyone may join, newest first. */
  async publicRooms(userId: string, limit = DEFAULT_LIMIT, cursor?: string): Promise<Page<RoomView>> {
    const params: unknown[] = [userId, limit + 1];
    let where = `NOT r.is_private`;
    if (cursor) {
      const [at, id] = decodeCursor(cursor, 'public', ['timestamp', 'uuid']);
      where += ` AND (r.created_at, r.id) < ($3::timestamptz, $4::uuid)`;
      params.push(at, id);
    }
    const found = await rows<RoomRow & { created_cursor: string }>(
      this.ds,
      `${ROOM_SELECT.replace('AS cursor_at', 'AS cursor_at, r.created_at::text AS created_cursor')}
       WHERE ${where} ORDER BY r.created_at DESC, r.id DESC LIMIT $2`,
      params,
    ).catch(rethrowCursor);
    return toPage(found, limit, toRoomView, (r) => encodeCursor('public', [r.created_cursor, r.id]));
  }

  /** A public room is visible to every signed-in user; a private one to its members only. */
  async getRoom(userId: string, roomId: string): Promise<RoomView> {
    const room = await this.findRoomFor(userId, roomId);
    if (!room) throw notFound('Room not found');
    if (room.isPrivate && !room.role) throw forbidden('This room is private; only its members may see it');
    return room;
  }

  /**
   * Joins a public room (idempotent), or confirms membership of a private one. New members
   * start with nothing unread.
   */
  async join(userId: string, roomId: string): Promise<{ room: RoomView; newMember: boolean }> {
    const room = await this.findRoomFor(userId, roomId);
    if (!room) throw notFound('Room not found');
    if (room.role) return { room, newMember: false };
    if (room.isPrivate) throw forbidden('This room is private; only its members may join it');
    const inserted = await rows(
      this.ds,
      `INSERT INTO chat_room_members (room_id, user_id, role, last_read_seq)
       SELECT id, $2, 'member', last_seq FROM chat_rooms WHERE id = $1
       ON CONFLICT (room_id, user_id) DO NOTHING RETURNING user_id`,
      [roomId, userId],
    );
    const newMember = inserted.length > 0;
    if (newMember) this.publisher.toRoomExceptUser(chatRoomChannel(roomId), userId, 'user_joined', { roomId, userId });
    return { room: await this.roomFor(userId, roomId), newMember };
  }

  /** Leaves the room: membership ends, every socket of the user stops listening, subscriptions end. */
  async leave(userId: string, roomId: string): Promise<void> {
    await this.assertNotSystem(roomId);
    const removed = await rows(this.ds, `DELETE FROM chat_room_members WHERE room_id = $1 AND user_id = $2 RETURNING user_id`, [roomId, userId]);
    if (!removed.length) await this.explainNotMember(roomId);
    await this.afterRemoval(roomId, userId);
  }

  /** The owner (or an admin) adds members; returns the ids that were not members yet. */
  async addMembers(actor: AuthUser, roomId: string, userIds: string[]): Promise<string[]> {
    await this.assertManager(actor, roomId);
    const ids = [...new Set(userIds)];
    const known = await rows<{ id: string }>(this.ds, `SELECT id FROM users WHERE id = ANY($1::uuid[])`, [ids]);
    if (known.length !== ids.length) {
      const found = new Set(known.map((k) => k.id));
      throw badRequest([`userIds contains unknown users: ${ids.filter((id) => !found.has(id)).join(', ')}`]);
    }
    const added = await rows<{ user_id: string }>(
      this.ds,
      `INSERT INTO chat_room_members (room_id, user_id, role, last_read_seq)
       SELECT r.id, u, 'member', r.last_seq FROM chat_rooms r, unnest($2::uuid[]) AS u WHERE r.id = $1
       ON CONFLICT (room_id, user_id) DO NOTHING RETURNING user_id`,
      [roomId, ids],
    );
    for (const a of added) this.publisher.toRoomExceptUser(chatRoomChannel(roomId), a.user_id, 'user_joined', { roomId, userId: a.user_id });
    return added.map((a) => a.user_id);
  }

  /** Removes a member: themself (= leave), or anyone when the actor is the owner or an admin. */
  async removeMember(actor: AuthUser, roomId: string, userId: string): Promise<void> {
    if (actor.id === userId) return this.leave(userId, roomId);
    await this.assertManager(actor, roomId);
    const removed = await rows(this.ds, `DELETE FROM chat_room_members WHERE room_id = $1 AND user_id = $2 RETURNING user_id`, [roomId, userId]);
    if (!removed.length) throw notFound('That user is not a member of this room');
    await this.afterRemoval(roomId, userId);
  }

  private async afterRemoval(roomId: string, userId: string) {
    this.publisher.removeUserFrom(userId, chatRoomChannel(roomId));
    await this.typing.stop(roomId, userId).catch(() => false);
    this.publisher.toRoom(chatRoomChannel(roomId), 'user_left', { roomId, userId });
    await this.pubsub.publish(leftTopic(roomId, userId), { left: true });
  }

  private async assertManager(actor: AuthUser, roomId: string) {
    const room = await this.findRoomFor(actor.id, roomId);
    if (!room) throw notFound('Room not found');
    if (room.kind === 'system') {
      if (room.isPrivate && !room.role && !isAdmin(actor)) throw notFound('Room not found');
      throw forbidden("This room belongs to the platform: its membership is fixed");
    }
    if (room.role === 'owner' || isAdmin(actor)) return;
    throw forbidden(room.role ? "Only the room's owner may manage its members" : 'You are not a member of this room');
  }

  /** System rooms (trade chats) keep the members they were created with. */
  private async assertNotSystem(roomId: string) {
    const [r] = await rows<{ kind: string }>(this.ds, `SELECT kind FROM chat_rooms WHERE id = $1`, [roomId]);
    if (r?.kind === 'system') throw forbidden("This room belongs to the platform: its membership is fixed, nobody leaves it");
  }

  /** Throws 404 for an unknown room and 403 when the user is not a member; returns the room. */
  async assertMember(userId: string, roomId: string): Promise<RoomView> {
    const room = await this.findRoomFor(userId, roomId);
    if (!room) throw notFound('Room not found');
    if (!room.role) {
      throw forbidden(room.isPrivate ? 'You are not a member of this private room' : 'You are not a member of this room; join it first');
    }
    return room;
  }

  private async explainNotMember(roomId: string): Promise<never> {
    const found = await rows<{ is_private: boolean }>(this.ds, `SELECT is_private FROM chat_rooms WHERE id = $1`, [roomId]);
    if (!found.length) throw notFound('Room not found');
    throw forbidden(found[0].is_private ? 'You are not a member of this private room' : 'You are not a member of this room; join it first');
  }

  private async findRoomFor(userId: string, roomId: string): Promise<RoomView | null> {
    const found = await rows<RoomRow>(this.ds, `${ROOM_SELECT} WHERE r.id = $2`, [userId, roomId]);
    return found.length ? toRoomView(found[0]) : null;
  }

  private async roomFor(userId: string, roomId: string): Promise<RoomView> {
    const room = await this.findRoomFor(userId, roomId);
    if (!room) throw notFound('Room not found');
    return room;
  }

  /** Members with presence and typing state (members only). */
  async roomUsers(userId: string, roomId: string): Promise<RoomUserView[]> {
    await this.assertMember(userId, roomId);
    return this.membersOf(roomId);
  }

  async membersOf(roomId: string, limit = 1000): Promise<RoomUserView[]> {
    const members = await rows<{ user_id: string; username: string; last_seen_at: Date | null; role: RoomRole; joined_at: Date }>(
      this.ds,
      `SELECT m.user_id, u.username, u.last_seen_at, m.role, m.joined_at
       FROM chat_room_members m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = $1 ORDER BY m.joined_at, m.user_id LIMIT $2`,
      [roomId, limit],
    );
    const ids = members.map((m) => m.user_id);
    const [statuses, typing] = await Promise.all([this.presence.statuses(ids), this.typing.typingIn(roomId, ids)]);
    return members.map((m) => {
      const status = statuses.get(m.user_id) ?? 'offline';
      return {
        userId: m.user_id,
        username: m.username,
        online: status !== 'offline',
        status,
        typing: typing.has(m.user_id),
        lastSeenAt: iso(m.last_seen_at),
        role: m.role,
        joinedAt: iso(m.joined_at)!,
      };
    });
  }

  /**
   * Everyone who shares at least one room with the user (the audience of their presence).
   * With `maxRoomMembers`, rooms with more members than that are left out (their members read
   * presence with `GET /api/chat/rooms/:roomId/users`), and at most `limit` users are returned.
   */
  async roomMatesOf(userId: string, opts: { maxRoomMembers?: number; limit?: number } = {}): Promise<string[]> {
    const found = await rows<{ user_id: string }>(
      this.ds,
      `SELECT DISTINCT m2.user_id FROM chat_room_members m1
       JOIN chat_room_members m2 ON m2.room_id = m1.room_id
       WHERE m1.user_id = $1 AND m2.user_id <> $1
         AND ($2::int IS NULL OR (SELECT count(*) FROM chat_room_members c WHERE c.room_id = m1.room_id) <= $2::int)
       LIMIT $3`,
      [userId, opts.maxRoomMembers ?? null, opts.limit ?? 1_000_000],
    );
    return found.map((f) => f.user_id);
  }

  // ---------------------------------------------------------------- messages

  /**
   * Stores and announces a message. A retry with the same clientMessageId (same sender, same
   * room) stores nothing and returns the original with `replayed: true`.
   */
  async send(userId: string, roomId: string, contentRaw: string, clientMessageId?: string | null): Promise<{ message: MessageView; replayed: boolean }> {
    const content = checkContent(contentRaw, this.settings.maxContentLength);
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
    const original = cmid ? await this.byClientId(roomId, userId, cmid) : null;
    if (original) {
      await this.assertMember(userId, roomId); // a replay after leaving is refused like any other write
      return { message: original, replayed: true };
    }
    return this.explainNotMember(roomId);
  }

  /**
   * Writes one room's queued sends; one result per item: the stored message, null (not
   * written: a retry or no access, see send()) or the error to throw (rate limited).
   */
  private async writeBatch(roomId: string, items: PendingSend[]): Promise<(MessageView | null | DomainError)[]> {
    const out: (MessageView | null | DomainError)[] = items.map(() => null);
    const [verdicts, stoppedTyping] = await this.redis.softchatChatPreWrite(
      this.typing.key,
      this.settings.sendWindowSeconds * 1000,
      this.settings.sendLimit,
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
        const found = await rows<MessageRow & { ord: number }>(this.ds, SEND_BATCH_SQL, [
          roomId,
          batch.map((_, i) => i),
          batch.map((i) => i.userId),
          batch.map((i) => i.content),
          batch.map((i) => i.clientMessageId),
        ]);
        written = batch.map(() => null);
        const messages = found.map((r) => {
          const m = toMessageView(r);
          written[r.ord] = m;
          return m;
        });
        this.announceBatch(roomId, messages);
      } catch (e) {
        const pg = pgCode(e);
        if (pg.code !== '23505' || pg.constraint !== 'chat_messages_client_id_uq') throw e;
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
        const [row] = await rows<MessageRow>(this.ds, SEND_SQL, [roomId, item.userId, item.content, item.clientMessageId]);
        const m = row ? toMessageView(row) : null;
        if (m) this.announceBatch(roomId, [m]);
        out.push(m);
      } catch (e) {
        const pg = pgCode(e);
        if (pg.code !== '23505' || pg.constraint !== 'chat_messages_client_id_uq') throw e;
        out.push(null);
      }
    }
    return out;
  }

  /** After commit: one Socket.IO event per message, one GraphQL publish per batch. */
  private announceBatch(roomId: string, messages: MessageView[]) {
    if (!messages.length) return;
    for (const message of messages) this.publisher.toRoom(chatRoomChannel(roomId), 'message_received', { roomId, message });
    this.pubsub
      .publish(messageTopic(roomId), { messagesAdded: messages })
      .catch((e) => this.logger.warn(`messageAdded publish failed: ${(e as Error).message}`));
  }

  private async byClientId(roomId: string, userId: string, clientMessageId: string): Promise<MessageView | null> {
    const found = await rows<MessageRow>(
      this.ds,
      `SELECT ${MESSAGE_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_id
       WHERE m.room_id = $1 AND m.sender_id = $2 AND m.client_message_id = $3`,
      [roomId, userId, clientMessageId],
    );
    return found.length ? toMessageView(found[0]) : null;
  }

  /**
   * History. Default: newest first, paged backwards by sequence, so messages arriving while a
   * client pages cause no gap and no repeat. With `afterSeq`: oldest first from that sequence
   * (catch-up), paged forwards.
   */
  async history(userId: string, roomId: string, opts: { limit?: number; cursor?: string; afterSeq?: number }): Promise<Page<MessageView>> {
    await this.assertMember(userId, roomId);
    const limit = opts.limit ?? DEFAULT_LIMIT;
    let forward = opts.afterSeq !== undefined;
    let bound: number | null = forward ? opts.afterSeq! : null;
    if (opts.cursor) {
      const [dir, seq] = decodeCursor(opts.cursor, 'msg', ['string', 'number']);
      if (dir !== 'b' && dir !== 'f') throw badRequest(['cursor is invalid or expired; pass back the nextCursor of a previous page']);
      forward = dir === 'f';
      bound = seq as number;
    }
    const cond = bound === null ? '' : forward ? 'AND m.seq > $3' : 'AND m.seq < $3';
    const found = await rows<MessageRow>(
      this.ds,
      `SELECT ${MESSAGE_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_id
       WHERE m.room_id = $1 ${cond} ORDER BY m.seq ${forward ? 'ASC' : 'DESC'} LIMIT $2`,
      bound === null ? [roomId, limit + 1] : [roomId, limit + 1, bound],
    );
    return toPage(found, limit, toMessageView, (r) => encodeCursor('msg', [forward ? 'f' : 'b', num(r.seq)]));
  }

  /**
   * What a reconnecting client missed: messages after `lastSeq`, oldest first. Without
   * `lastSeq`, the latest page, oldest first. Call after the socket joined the room so that
   * nothing falls between the two (duplicates are possible; clients keep messages by seq).
   */
  async catchUp(roomId: string, lastSeq: number | undefined, limit = this.settings.catchUpLimit): Promise<CatchUp> {
    if (lastSeq === undefined) {
      const latest = await rows<MessageRow>(
        this.ds,
        `SELECT ${MESSAGE_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_id
         WHERE m.room_id = $1 ORDER BY m.seq DESC LIMIT $2`,
        [roomId, DEFAULT_LIMIT + 1],
      );
      const hasMore = latest.length > DEFAULT_LIMIT;
      return { messages: latest.slice(0, DEFAULT_LIMIT).reverse().map(toMessageView), hasMore };
    }
    const found = await rows<MessageRow>(
      this.ds,
      `SELECT ${MESSAGE_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_id
       WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3`,
      [roomId, lastSeq, limit + 1],
    );
    return { messages: found.slice(0, limit).map(toMessageView), hasMore: found.length > limit };
  }

  // ---------------------------------------------------------------- typing and read state

  /** Typing for oneself, in a room one is a member of. */
  async setTyping(userId: string, roomId: string, typing: boolean): Promise<void> {
    await this.assertMember(userId, roomId);
    if (typing) await this.typing.start(roomId, userId);
    else await this.typing.stop(roomId, userId);
  }

  /** Marks the room read up to `seq` (default: everything); never moves backwards. */
  async markRead(userId: string, roomId: string, seq?: number): Promise<ReadState> {
    const found = await rows<{ last_read_seq: string; last_seq: string }>(
      this.ds,
      `UPDATE chat_room_members m
       SET last_read_seq = GREATEST(m.last_read_seq, LEAST(COALESCE($3::bigint, r.last_seq), r.last_seq))
       FROM chat_rooms r
       WHERE r.id = m.room_id AND m.room_id = $1 AND m.user_id = $2
       RETURNING m.last_read_seq, r.last_seq`,
      [roomId, userId, seq ?? null],
    );
    if (!found.length) await this.explainNotMember(roomId);
    const lastReadSeq = num(found[0].last_read_seq);
    const lastSeq = num(found[0].last_seq);
    return { roomId, lastReadSeq, lastSeq, unreadCount: Math.max(0, lastSeq - lastReadSeq) };
  }
}

/** A cursor whose timestamp Postgres cannot parse is the client's mistake. */
function rethrowCursor(e: unknown): never {
  const code = pgCode(e).code;
  if (code === '22007' || code === '22008' || code === '22P02') {
    throw badRequest(['cursor is invalid or expired; pass back the nextCursor of a previous page']);
  }
  throw e;
}
