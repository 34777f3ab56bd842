import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { iso } from '../../core/database/sql';
import { pgCode, withTransaction } from '../../core/database/transaction';
import { badRequest, forbidden, notFound } from '../../core/http/domain-error';
import { DEFAULT_LIMIT, Page, decodeKindCursor, invalidCursor, kindCursor, toPage } from '../../core/http/pagination';
import { Announcer } from '../../core/realtime/announce';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { RedisService } from '../../core/redis/redis.service';
import { PresenceService } from '../presence/presence.service';
import { ChatRepository } from './chat.repository';
import { checkRoomName } from './chat.rules';
import { chatRoomChannel, PublicRoomChanged, UserJoined, UserLeft } from './chat.events';
import { RoomUserView, RoomView, toRoomView } from './chat.views';
import { TypingService } from './typing.service';

/** A cursor whose timestamp Postgres cannot parse is the client's mistake. */
function rethrowCursor(e: unknown): never {
  const code = pgCode(e);
  if (code === '22007' || code === '22008' || code === '22P02') throw invalidCursor();
  throw e;
}

/**
 * A member coming back into a room (a new tab, a reconnect) is told to the room with `user_joined`
 * once per this window, whatever the number of sockets: a storm of reconnecting tabs would otherwise
 * send every member one frame per socket that re-enters (sockets × room size).
 */
export const ENTRY_ANNOUNCE_WINDOW_MS = 10_000;

/** Rooms and their members: creation, listing, joining, leaving, membership checks and the member list with presence. */
@Injectable()
export class ChatRooms {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: ChatRepository,
    private readonly publisher: RealtimePublisher,
    private readonly announcer: Announcer,
    private readonly typing: TypingService,
    private readonly presence: PresenceService,
    private readonly redis: RedisService,
  ) {}

  async createRoom(userId: string, input: { name: string; isPrivate?: boolean; memberIds?: string[] }): Promise<RoomView> {
    const name = checkRoomName(input.name);
    const memberIds = [...new Set(input.memberIds ?? [])].filter((id) => id !== userId);
    const roomId = await withTransaction(this.ds, async (tx) => {
      const id = await this.repo.insertRoom(tx, name, !!input.isPrivate, userId);
      if (memberIds.length) {
        const added = await this.repo.insertMembers(tx, id, memberIds);
        if (added.length !== memberIds.length) {
          const found = new Set(added);
          throw badRequest([`memberIds contains unknown users: ${memberIds.filter((m) => !found.has(m)).join(', ')}`]);
        }
      }
      return id;
    });
    const room = await this.roomFor(userId, roomId);
    if (!room.isPrivate) this.announcePublicRoom(room);
    return room;
  }

  /**
   * After a public room was created or its membership changed: the public list's viewers see it
   * (`publicRoomChanged`). Private rooms are never announced (the summary is null for them).
   */
  private announcePublic(roomId: string): void {
    void this.repo
      .publicRoomSummary(roomId)
      .then((room) => room && this.announcePublicRoom(room))
      .catch(() => undefined);
  }

  /** The same, from a public room already read (no second query). */
  private announcePublicRoom(room: { id: string; name: string; memberCount: number }): void {
    void this.announcer.announce(PublicRoomChanged, { id: room.id, name: room.name, memberCount: room.memberCount }, { none: true });
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
    const roomId = await withTransaction(this.ds, async (tx) => {
      const id = await this.repo.insertSystemRoom(tx, name);
      const added = await this.repo.insertMembers(tx, id, memberIds);
      if (added.length !== memberIds.length) throw badRequest(['memberIds contains unknown users']);
      return id;
    });
    return this.roomFor(memberIds[0], roomId);
  }

  /** The caller's rooms, most recently joined first, with unread counts. */
  async myRooms(userId: string, limit = DEFAULT_LIMIT, cursor?: string): Promise<Page<RoomView>> {
    const after = cursor ? (decodeKindCursor(cursor, 'mine', ['timestamp', 'uuid']) as [string, string]) : undefined;
    const found = await this.repo.myRooms(userId, limit, after).catch(rethrowCursor);
    return toPage(found, limit, toRoomView, (r) => kindCursor('mine', [r.cursor_at, r.id]));
  }

  /** Public rooms anyone may join, newest first. */
  async publicRooms(userId: string, limit = DEFAULT_LIMIT, cursor?: string): Promise<Page<RoomView>> {
    const after = cursor ? (decodeKindCursor(cursor, 'public', ['timestamp', 'uuid']) as [string, string]) : undefined;
    const found = await this.repo.publicRooms(userId, limit, after).catch(rethrowCursor);
    return toPage(found, limit, toRoomView, (r) => kindCursor('public', [r.created_cursor, r.id]));
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
    const newMember = await this.repo.join(roomId, userId);
    const joined = await this.roomFor(userId, roomId);
    if (newMember) {
      void this.announcer.announce(UserJoined, { roomId, userId }, { roomExceptUser: [chatRoomChannel(roomId), userId] });
      this.announcePublicRoom(joined); // public: a private room refused the join above
    }
    return { room: joined, newMember };
  }

  /**
   * Whether this entry of an existing member into the room should be told to the room: the first
   * within ENTRY_ANNOUNCE_WINDOW_MS across all instances (Redis SET NX). If Redis cannot answer,
   * the entry is told (a duplicate `user_joined` is harmless; a lost one only hides a hint).
   */
  async claimEntry(roomId: string, userId: string): Promise<boolean> {
    const set = await this.redis.client
      .set(this.redis.key('chat', 'entered', roomId, userId), '1', 'PX', ENTRY_ANNOUNCE_WINDOW_MS, 'NX')
      .catch(() => 'OK');
    return set === 'OK';
  }

  /** Leaves the room: membership ends, every socket of the user stops listening, subscriptions end. */
  async leave(userId: string, roomId: string): Promise<void> {
    if ((await this.repo.roomKind(roomId)) === 'system') throw forbidden('This room belongs to the platform: its membership is fixed, nobody leaves it');
    if (!(await this.repo.removeMember(roomId, userId))) await this.explainNotMember(roomId);
    await this.afterRemoval(roomId, userId);
  }

  /** The owner (or an admin) adds members; returns the ids that were not members yet. */
  async addMembers(actor: AuthUser, roomId: string, userIds: string[]): Promise<string[]> {
    await this.assertManager(actor, roomId);
    const ids = [...new Set(userIds)];
    const known = await this.repo.knownUsers(ids);
    if (known.length !== ids.length) {
      const found = new Set(known);
      throw badRequest([`userIds contains unknown users: ${ids.filter((id) => !found.has(id)).join(', ')}`]);
    }
    const added = await this.repo.addMembers(roomId, ids);
    for (const a of added) void this.announcer.announce(UserJoined, { roomId, userId: a }, { roomExceptUser: [chatRoomChannel(roomId), a] });
    if (added.length) this.announcePublic(roomId);
    return added;
  }

  /** Removes a member: themself (= leave), or anyone when the actor is the owner or an admin. */
  async removeMember(actor: AuthUser, roomId: string, userId: string): Promise<void> {
    if (actor.id === userId) return this.leave(userId, roomId);
    await this.assertManager(actor, roomId);
    if (!(await this.repo.removeMember(roomId, userId))) throw notFound('That user is not a member of this room');
    await this.afterRemoval(roomId, userId);
  }

  private async afterRemoval(roomId: string, userId: string) {
    this.publisher.removeUserFrom(userId, chatRoomChannel(roomId));
    await this.typing.stop(roomId, userId).catch(() => false);
    await this.announcer.announce(UserLeft, { roomId, userId }, { room: chatRoomChannel(roomId) });
    this.announcePublic(roomId);
  }

  private async assertManager(actor: AuthUser, roomId: string) {
    const room = await this.findRoomFor(actor.id, roomId);
    if (!room) throw notFound('Room not found');
    if (room.kind === 'system') {
      if (room.isPrivate && !room.role && !isAdmin(actor)) throw notFound('Room not found');
      throw forbidden('This room belongs to the platform: its membership is fixed');
    }
    if (room.role === 'owner' || isAdmin(actor)) return;
    throw forbidden(room.role ? "Only the room's owner may manage its members" : 'You are not a member of this room');
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

  /** The 404 or 403 for a user whose write found no membership. */
  async explainNotMember(roomId: string): Promise<never> {
    const isPrivate = await this.repo.roomIsPrivate(roomId);
    if (isPrivate === null) throw notFound('Room not found');
    throw forbidden(isPrivate ? 'You are not a member of this private room' : 'You are not a member of this room; join it first');
  }

  private async findRoomFor(userId: string, roomId: string): Promise<RoomView | null> {
    const row = await this.repo.roomFor(userId, roomId);
    return row ? toRoomView(row) : null;
  }

  private async roomFor(userId: string, roomId: string): Promise<RoomView> {
    const room = await this.findRoomFor(userId, roomId);
    if (!room) throw notFound('Room not found');
    return room;
  }

  /** Members with presence and typing state. */
  async membersOf(roomId: string, limit = 1000): Promise<RoomUserView[]> {
    const members = await this.repo.members(roomId, limit);
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
  roomMatesOf(userId: string, opts: { maxRoomMembers?: number; limit?: number } = {}): Promise<string[]> {
    return this.repo.roomMatesOf(userId, opts.maxRoomMembers ?? null, opts.limit ?? 1_000_000);
  }
}
