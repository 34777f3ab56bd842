import { Body, Controller, Post } from '@nestjs/common';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { CreateUploadDto } from './dto/media.dto';
import { UploadsService } from './uploads.service';

@Controller('videos/uploads')
export class MediaUploadsController {
  constructor(private readonly uploads: UploadsService) {}

  /** Creators get a presigned PUT (or a Cloudflare Stream upload URL) for one video file. */
  @Roles('creator', 'admin')
  @Post()
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateUploadDto) {
    return this.uploads.create(user.id, dto);
  }
}
