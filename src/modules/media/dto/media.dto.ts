import { Field, Float, ID, InputType, ObjectType } from '@nestjs/graphql';
import { IsIn, IsNumber, IsOptional, IsString, MaxLength } from 'class-validator';
import { MAX_KEY_LENGTH, MAX_URL_LENGTH, SOURCE_PROVIDERS } from '../source.rules';

/** POST /api/videos/uploads. Semantics (video types, size bound) are checked by validateUpload. */
@InputType('CreateVideoUploadInput')
export class CreateUploadDto {
  /** Where to upload: the platform's bucket (default) or Cloudflare Stream. */
  @Field(() => String, { nullable: true, description: 's3 (default) | cloudflare_stream' })
  @IsOptional()
  @IsIn(['s3', 'cloudflare_stream'], { message: 'provider must be s3 or cloudflare_stream' })
  provider?: 's3' | 'cloudflare_stream';

  /** Kept for the creator's reference only; the stored key never derives from it. */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString({ message: 'filename must be a string' })
  @MaxLength(255, { message: 'filename must be at most 255 characters' })
  filename?: string;

  @Field()
  @IsString({ message: 'contentType must be a video content type such as video/mp4' })
  @MaxLength(100, { message: 'contentType must be at most 100 characters' })
  contentType: string;

  @Field(() => Float, { description: 'Exact size of the file; the upload URL is signed for it' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'sizeBytes must be a positive whole number of bytes' })
  sizeBytes: number;
}

@ObjectType('VideoUploadHeader')
export class UploadHeaderGql {
  @Field() name: string;
  @Field() value: string;
}

@ObjectType('VideoUpload')
export class UploadTicketGql {
  @Field(() => ID) uploadId: string;
  @Field() provider: string;
  @Field({ description: 'The S3 key (or Cloudflare Stream uid) to publish the video from' }) key: string;
  @Field() uploadUrl: string;
  @Field() method: string;
  @Field(() => [UploadHeaderGql]) headers: UploadHeaderGql[];
  @Field() expiresAt: string;
  @Field(() => Float) maxSizeBytes: number;
}

/** Where a video plays from: `url`, `s3` (key), `cloudflare_stream`, `vimeo`, `youtube` (id). Nest prefixes messages with "source.". */
@InputType('VideoSourceInput')
export class VideoSourceDto {
  @Field(() => String, { description: SOURCE_PROVIDERS.join(' | ') })
  @IsIn(SOURCE_PROVIDERS as unknown as string[], { message: `provider must be one of ${SOURCE_PROVIDERS.join(', ')}` })
  provider: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString({ message: 'url must be a string' })
  @MaxLength(MAX_URL_LENGTH, { message: `url must be at most ${MAX_URL_LENGTH} characters` })
  url?: string;

  @Field(() => String, { nullable: true, description: 'S3 object key, as returned by POST /api/videos/uploads' })
  @IsOptional()
  @IsString({ message: 'key must be a string' })
  @MaxLength(MAX_KEY_LENGTH, { message: `key must be at most ${MAX_KEY_LENGTH} characters` })
  key?: string;

  @Field(() => String, { nullable: true, description: 'The provider’s video id' })
  @IsOptional()
  @IsString({ message: 'id must be a string' })
  @MaxLength(64, { message: 'id must be at most 64 characters' })
  id?: string;
}

@ObjectType('VideoSource')
export class VideoSourceGql {
  @Field() provider: string;
  @Field(() => String, { nullable: true }) url?: string;
  @Field(() => String, { nullable: true }) key?: string;
  @Field(() => String, { nullable: true }) id?: string;
}

@ObjectType('VideoPlayback')
export class PlaybackGql {
  @Field(() => ID) videoId: string;
  @Field({ description: 'What to play or embed' }) url: string;
  @Field(() => String, { nullable: true, description: 'When a signed URL stops working (null: it does not expire)' }) expiresAt: string | null;
  @Field({ description: 'file | hls | dash | embed' }) kind: string;
  @Field() provider: string;
  @Field() signed: boolean;
  @Field(() => Float, { nullable: true }) ttlSeconds: number | null;
}
