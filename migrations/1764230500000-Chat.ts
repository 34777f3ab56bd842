import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Chat rooms, members (with read state), messages (per-room gapless sequence) and the
 * in-app notification inbox. SQL kept to what Postgres 15 and PGlite (Postgres 18) both accept.
 */
export class Chat1764230500000 implements MigrationInterface {
  name = 'Chat1764230500000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE chat_rooms (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(100) NOT NULL,
        is_private boolean NOT NULL DEFAULT false,
        created_by uuid NULL REFERENCES users(id) ON DELETE SET NULL,
        last_seq bigint NOT NULL DEFAULT 0,
        last_message_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT chat_rooms_name_len CHECK (char_length(btrim(name)) BETWEEN 1 AND 100),
        CONSTRAINT chat_rooms_last_seq_nonneg CHECK (last_seq >= 0)
      )`);
    // Discovery of public rooms, newest first (cursor on created_at, id).
    await q.query(`CREATE INDEX chat_rooms_public_idx ON chat_rooms (created_at DESC, id DESC) WHERE NOT is_private`);
    await q.query(`CREATE INDEX chat_rooms_created_by_idx ON chat_rooms (created_by)`);

    await q.query(`
      CREATE TABLE chat_room_members (
        room_id uuid NOT NULL REFERENCES chat_rooms(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role varchar(16) NOT NULL DEFAULT 'member',
        last_read_seq bigint NOT NULL DEFAULT 0,
        joined_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (room_id, user_id),
        CONSTRAINT chat_room_members_role_valid CHECK (role IN ('owner', 'member')),
        CONSTRAINT chat_room_members_read_nonneg CHECK (last_read_seq >= 0)
      )`);
    // "My rooms", most recently joined first (cursor on joined_at, room_id); also who-shares-a-room.
    await q.query(`CREATE INDEX chat_room_members_user_idx ON chat_room_members (user_id, joined_at DESC, room_id DESC)`);

    await q.query(`
      CREATE TABLE chat_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES chat_rooms(id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        sender_id uuid NULL REFERENCES users(id) ON DELETE SET NULL,
        content text NOT NULL,
        client_message_id varchar(64) NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT chat_messages_seq_positive CHECK (seq > 0),
        CONSTRAINT chat_messages_content_len CHECK (char_length(content) BETWEEN 1 AND 4000)
      )`);
    // One message per (room, seq): history pages and catch-up by sequence both walk this index.
    await q.query(`CREATE UNIQUE INDEX chat_messages_room_seq_uq ON chat_messages (room_id, seq)`);
    // A retried send with the same clientMessageId stores nothing new (Matrix scopes txn ids per room too).
    await q.query(
      `CREATE UNIQUE INDEX chat_messages_client_id_uq ON chat_messages (room_id, sender_id, client_message_id) WHERE client_message_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX chat_messages_sender_idx ON chat_messages (sender_id)`);

    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        type varchar(32) NOT NULL,
        title varchar(200) NOT NULL,
        body varchar(2000) NOT NULL,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        dedupe_key varchar(200) NULL,
        read_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT notifications_type_format CHECK (type ~ '^[a-z][a-z0-9_.-]{0,31}$'),
        CONSTRAINT notifications_data_object CHECK (jsonb_typeof(data) = 'object')
      )`);
    await q.query(`CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC)`);
    // Unread lists and the unread count.
    await q.query(`CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL`);
    // Fan-out batches and other modules' events are retried safely: one notification per user and key.
    await q.query(`CREATE UNIQUE INDEX notifications_dedupe_uq ON notifications (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notifications`);
    await q.query(`DROP TABLE chat_messages`);
    await q.query(`DROP TABLE chat_room_members`);
    await q.query(`DROP TABLE chat_rooms`);
  }
}
