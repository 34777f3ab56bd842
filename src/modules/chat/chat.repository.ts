import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { rows } from '../../core/database/sql';
import type { Tx } from '../../core/database/transaction';
import type { MemberRow, MessageRow, RoomRow } from './chat.views';

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

export interface PendingSend {
  userId: string;
  content: string;
  clientMessageId: string | null;
}

/** Every SQL statement on the chat tables (chat_rooms, chat_room_members, chat_messages). */
@Injectable()
export class ChatRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  // ---------------------------------------------------------------- rooms

  async insertRoom(tx: Tx, name: string, isPrivate: boolean, createdBy: string): Promise<string> {
    const [room] = await rows<{ id: string }>(tx, `INSERT INTO chat_rooms (name, is_private, created_by) VALUES ($1, $2, $3) RETURNING id`, [name, isPrivate, createdBy]);
    await rows(tx, `INSERT INTO chat_room_members (room_id, user_id, role) VALUES ($1, $2, 'owner')`, [room.id, createdBy]);
    return room.id;
  }

  async insertSystemRoom(tx: Tx, name: string): Promise<string> {
    const [room] = await rows<{ id: string }>(tx, `INSERT INTO chat_rooms (name, is_private, created_by, kind) VALUES ($1, true, NULL, 'system') RETURNING id`, [name]);
    return room.id;
  }

  /** Adds the existing users among `userIds` as members (at creation); the ids added. */
  async insertMembers(tx: Tx, roomId: string, userIds: string[]): Promise<string[]> {
    const added = await rows<{ user_id: string }>(
      tx,
      `INSERT INTO chat_room_members (room_id, user_id, role)
       SELECT $1, u.id, 'member' FROM users u WHERE u.id = ANY($2::uuid[]) RETURNING user_id`,
      [roomId, userIds],
    );
    return added.map((a) => a.user_id);
  }

  myRooms(userId: string, limit: number, cursor?: [string, string]): Promise<RoomRow[]> {
    const params: unknown[] = [userId, limit + 1];
    let where = `m.user_id = $1`;
    if (cursor) {
      where += ` AND (m.joined_at, m.room_id) < ($3::timestamptz, $4::uuid)`;
      params.push(...cursor);
    }
    return rows<RoomRow>(
      this.ds,
      `${ROOM_SELECT.replace('LEFT JOIN chat_room_members m', 'JOIN chat_room_members m')}
       WHERE ${where} ORDER BY m.joined_at DESC, m.room_id DESC LIMIT $2`,
      params,
    );
  }

  publicRooms(userId: string, limit: number, cursor?: [string, string]): Promise<(RoomRow & { created_cursor: string })[]> {
    const params: unknown[] = [userId, limit + 1];
    let where = `NOT r.is_private`;
    if (cursor) {
      where += ` AND (r.created_at, r.id) < ($3::timestamptz, $4::uuid)`;
      params.push(...cursor);
    }
    return rows<RoomRow & { created_cursor: string }>(
      this.ds,
      `${ROOM_SELECT.replace('AS cursor_at', 'AS cursor_at, r.created_at::text AS created_cursor')}
       WHERE ${where} ORDER BY r.created_at DESC, r.id DESC LIMIT $2`,
      params,
    );
  }

  async roomFor(userId: string, roomId: string): Promise<RoomRow | null> {
    const found = await rows<RoomRow>(this.ds, `${ROOM_SELECT} WHERE r.id = $2`, [userId, roomId]);
    return found[0] ?? null;
  }

  /** A public room as the public list shows it to everyone (null when private or gone). */
  async publicRoomSummary(roomId: string): Promise<{ id: string; name: string; memberCount: number } | null> {
    const [r] = await rows<{ id: string; name: string; member_count: number }>(
      this.ds,
      `SELECT r.id, r.name, (SELECT count(*) FROM chat_room_members c WHERE c.room_id = r.id)::int AS member_count
       FROM chat_rooms r WHERE r.id = $1 AND NOT r.is_private`,
      [roomId],
    );
    return r ? { id: r.id, name: r.name, memberCount: Number(r.member_count) } : null;
  }

  async roomKind(roomId: string): Promise<string | null> {
    const [r] = await rows<{ kind: string }>(this.ds, `SELECT kind FROM chat_rooms WHERE id = $1`, [roomId]);
    return r?.kind ?? null;
  }

  /** Whether the room is private; null when it does not exist. */
  async roomIsPrivate(roomId: string): Promise<boolean | null> {
    const found = await rows<{ is_private: boolean }>(this.ds, `SELECT is_private FROM chat_rooms WHERE id = $1`, [roomId]);
    return found.length ? found[0].is_private : null;
  }

  // ---------------------------------------------------------------- members

  /** Joins a public room with nothing unread; false when already a member. */
  async join(roomId: string, userId: string): Promise<boolean> {
    const inserted = await rows(
      this.ds,
      `INSERT INTO chat_room_members (room_id, user_id, role, last_read_seq)
       SELECT id, $2, 'member', last_seq FROM chat_rooms WHERE id = $1
       ON CONFLICT (room_id, user_id) DO NOTHING RETURNING user_id`,
      [roomId, userId],
    );
    return inserted.length > 0;
  }

  /** Adds members with nothing unread; the ids that were not members yet. */
  async addMembers(roomId: string, userIds: string[]): Promise<string[]> {
    const added = await rows<{ user_id: string }>(
      this.ds,
      `INSERT INTO chat_room_members (room_id, user_id, role, last_read_seq)
       SELECT r.id, u, 'member', r.last_seq FROM chat_rooms r, unnest($2::uuid[]) AS u WHERE r.id = $1
       ON CONFLICT (room_id, user_id) DO NOTHING RETURNING user_id`,
      [roomId, userIds],
    );
    return added.map((a) => a.user_id);
  }

  async removeMember(roomId: string, userId: string): Promise<boolean> {
    const removed = await rows(this.ds, `DELETE FROM chat_room_members WHERE room_id = $1 AND user_id = $2 RETURNING user_id`, [roomId, userId]);
    return removed.length > 0;
  }

  async knownUsers(ids: string[]): Promise<string[]> {
    const known = await rows<{ id: string }>(this.ds, `SELECT id FROM users WHERE id = ANY($1::uuid[])`, [ids]);
    return known.map((k) => k.id);
  }

  members(roomId: string, limit: number): Promise<MemberRow[]> {
    return rows<MemberRow>(
      this.ds,
      `SELECT m.user_id, u.username, u.last_seen_at, m.role, m.joined_at
       FROM chat_room_members m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = $1 ORDER BY m.joined_at, m.user_id LIMIT $2`,
      [roomId, limit],
    );
  }

  async roomMatesOf(userId: string, maxRoomMembers: number | null, limit: number): Promise<string[]> {
    const found = await rows<{ user_id: string }>(
      this.ds,
      `SELECT DISTINCT m2.user_id FROM chat_room_members m1
       JOIN chat_room_members m2 ON m2.room_id = m1.room_id
       WHERE m1.user_id = $1 AND m2.user_id <> $1
         AND ($2::int IS NULL OR (SELECT count(*) FROM chat_room_members c WHERE c.room_id = m1.room_id) <= $2::int)
       LIMIT $3`,
      [userId, maxRoomMembers, limit],
    );
    return found.map((f) => f.user_id);
  }

  // ---------------------------------------------------------------- messages

  sendBatch(roomId: string, batch: PendingSend[]): Promise<(MessageRow & { ord: number })[]> {
    return rows<MessageRow & { ord: number }>(this.ds, SEND_BATCH_SQL, [
      roomId,
      batch.map((_, i) => i),
      batch.map((i) => i.userId),
      batch.map((i) => i.content),
      batch.map((i) => i.clientMessageId),
    ]);
  }

  async sendOne(roomId: string, item: PendingSend): Promise<MessageRow | null> {
    const [row] = await rows<MessageRow>(this.ds, SEND_SQL, [roomId, item.userId, item.content, item.clientMessageId]);
    return row ?? null;
  }

  async byClientId(roomId: string, userId: string, clientMessageId: string): Promise<MessageRow | null> {
    const found = await rows<MessageRow>(
      this.ds,
      `SELECT ${MESSAGE_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_id
       WHERE m.room_id = $1 AND m.sender_id = $2 AND m.client_message_id = $3`,
      [roomId, userId, clientMessageId],
    );
    return found[0] ?? null;
  }

  /** `limit` messages after (forward) or before `bound`, or the newest when `bound` is null. */
  history(roomId: string, forward: boolean, bound: number | null, limit: number): Promise<MessageRow[]> {
    const cond = bound === null ? '' : forward ? 'AND m.seq > $3' : 'AND m.seq < $3';
    return rows<MessageRow>(
      this.ds,
      `SELECT ${MESSAGE_COLUMNS} FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_id
       WHERE m.room_id = $1 ${cond} ORDER BY m.seq ${forward ? 'ASC' : 'DESC'} LIMIT $2`,
      bound === null ? [roomId, limit] : [roomId, limit, bound],
    );
  }

  async markRead(roomId: string, userId: string, seq: number | null): Promise<{ last_read_seq: string; last_seq: string } | null> {
    const found = await rows<{ last_read_seq: string; last_seq: string }>(
      this.ds,
      `UPDATE chat_room_members m
       SET last_read_seq = GREATEST(m.last_read_seq, LEAST(COALESCE($3::bigint, r.last_seq), r.last_seq))
       FROM chat_rooms r
       WHERE r.id = m.room_id AND m.room_id = $1 AND m.user_id = $2
       RETURNING m.last_read_seq, r.last_seq`,
      [roomId, userId, seq],
    );
    return found[0] ?? null;
  }
}
