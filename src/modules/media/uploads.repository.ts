import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Tx } from '../../core/database/transaction';

export type UploadProvider = 's3' | 'cloudflare_stream';

export interface UploadRow {
  id: string;
  creator_id: string;
  provider: UploadProvider;
  object_ref: string;
  filename: string | null;
  content_type: string | null;
  size_bytes: string | null;
  expires_at: Date;
  video_id: string | null;
  created_at: Date;
}

/** SQL of the media module: the uploads handed to creators. */
@Injectable()
export class UploadsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async insert(u: { id: string; creatorId: string; provider: UploadProvider; ref: string; filename: string | null; contentType: string | null; sizeBytes: number | null; expiresAt: Date }) {
    await this.ds.query(
      `INSERT INTO video_uploads (id, creator_id, provider, object_ref, filename, content_type, size_bytes, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [u.id, u.creatorId, u.provider, u.ref, u.filename, u.contentType, u.sizeBytes, u.expiresAt],
    );
  }

  async byRef(provider: UploadProvider, ref: string): Promise<UploadRow | null> {
    const [row] = await this.ds.query(`SELECT * FROM video_uploads WHERE provider = $1 AND object_ref = $2`, [provider, ref]);
    return row ?? null;
  }

  /** Uploads a creator was given since `since` (a cheap per-creator rate limit). */
  async countSince(creatorId: string, since: Date): Promise<number> {
    const [r] = await this.ds.query(`SELECT COUNT(*)::int AS n FROM video_uploads WHERE creator_id = $1 AND created_at > $2`, [creatorId, since]);
    return Number(r.n);
  }

  /** Marks an upload as published as `videoId`, once: false when another video took it first. */
  async attach(tx: Tx, uploadId: string, videoId: string): Promise<boolean> {
    const { affected } = await tx.run(`UPDATE video_uploads SET video_id = $2 WHERE id = $1 AND video_id IS NULL`, [uploadId, videoId]);
    return affected === 1;
  }
}
