import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { CreateUploadDto, UploadTicketGql } from './dto/media.dto';
import { UploadsService } from './uploads.service';

@Resolver()
export class MediaResolver {
  constructor(private readonly uploads: UploadsService) {}

  @Roles('creator', 'admin')
  @Mutation(() => UploadTicketGql, { description: 'A presigned upload URL for one video file (creators); publish it with createVideo(source: {provider: "s3", key})' })
  async createVideoUpload(@CurrentUser() user: AuthUser, @Args('input') input: CreateUploadDto) {
    const t = await this.uploads.create(user.id, input);
    return { ...t, headers: Object.entries(t.headers).map(([name, value]) => ({ name, value })) };
  }
}
