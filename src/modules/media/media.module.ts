import { Module } from '@nestjs/common';
import { MediaUploadsController } from './media.controller';
import { MediaResolver } from './media.resolver';
import { MediaService } from './media.service';
import { PlaybackService } from './playback.service';
import { S3Storage } from './s3.storage';
import { UploadsRepository } from './uploads.repository';
import { UploadsService } from './uploads.service';

/**
 * Video media: sources (url, s3, Cloudflare Stream, Vimeo, YouTube), direct creator uploads to
 * S3 or Cloudflare Stream, signed playback URLs, and provider metadata. Used by the videos
 * module; it knows nothing about videos' rewards.
 */
@Module({
  controllers: [MediaUploadsController],
  providers: [S3Storage, UploadsRepository, UploadsService, MediaService, PlaybackService, MediaResolver],
  exports: [MediaService, PlaybackService],
})
export class MediaModule {}
