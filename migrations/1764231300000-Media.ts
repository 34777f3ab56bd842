import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Video media: where a video plays from, and the uploads creators were given.
 *
 * - videos.source_provider / source_ref: `url` (ref = the URL), `s3` (ref = the object key),
 *   `cloudflare_stream` / `vimeo` / `youtube` (ref = the provider's id). Existing videos become
 *   `url` sources of their own URL, so they keep playing as before. `videos.url` stays: the
 *   link shown for a video (the provider's page, or the playback route for s3 objects).
 * - video_uploads: one row per presigned upload handed to a creator (an S3 key the server
 *   chose, or a Cloudflare Stream uid from its direct-upload API), so a video can only be
 *   published from an object its creator was given, and only once (video_id).
 */
export class Media1764231300000 implements MigrationInterface {
  name = 'Media1764231300000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE videos ADD COLUMN source_provider varchar(20) NOT NULL DEFAULT 'url'`);
    await q.query(`ALTER TABLE videos ADD COLUMN source_ref varchar(2048) NULL`);
    await q.query(`UPDATE videos SET source_ref = url WHERE source_ref IS NULL`);
    await q.query(`
      ALTER TABLE videos
        ADD CONSTRAINT videos_source_provider CHECK (source_provider IN ('url', 's3', 'cloudflare_stream', 'vimeo', 'youtube')),
        ADD CONSTRAINT videos_source_ref CHECK (source_provider = 'url' OR source_ref IS NOT NULL)`);
    await q.query(`CREATE INDEX videos_source_idx ON videos (source_provider, source_ref) WHERE source_provider <> 'url'`);

    await q.query(`
      CREATE TABLE video_uploads (
        id uuid PRIMARY KEY,
        creator_id uuid NOT NULL REFERENCES users(id),
        provider varchar(20) NOT NULL,
        object_ref varchar(1024) NOT NULL,
        filename varchar(255) NULL,
        content_type varchar(100) NULL,
        size_bytes bigint NULL,
        expires_at timestamptz NOT NULL,
        video_id uuid NULL REFERENCES videos(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT video_uploads_provider CHECK (provider IN ('s3', 'cloudflare_stream')),
        CONSTRAINT video_uploads_size CHECK (size_bytes IS NULL OR size_bytes > 0),
        CONSTRAINT video_uploads_ref_unique UNIQUE (provider, object_ref)
      )`);
    await q.query(`CREATE UNIQUE INDEX video_uploads_video_idx ON video_uploads (video_id) WHERE video_id IS NOT NULL`);
    await q.query(`CREATE INDEX video_uploads_creator_idx ON video_uploads (creator_id, created_at DESC)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE video_uploads`);
    await q.query(`DROP INDEX videos_source_idx`);
    await q.query(`ALTER TABLE videos DROP CONSTRAINT videos_source_ref, DROP CONSTRAINT videos_source_provider`);
    await q.query(`ALTER TABLE videos DROP COLUMN source_ref, DROP COLUMN source_provider`);
  }
}
