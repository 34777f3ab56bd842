import { Logger } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayDisconnect, SubscribeMessage } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { CurrentUser } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { badRequest } from '../../core/http/domain-error';
import { RealtimeGateway, ok } from '../../core/realtime/realtime-gateway.decorator';
import { VideoRefDto } from './dto/videos.dto';
import { VideoViewersService } from './video-viewers.service';
import { videoRoom } from './videos.events';
import { VideosService } from './videos.service';

/** Most videos one socket may watch at once (a tab per video is plenty). */
const MAX_VIDEOS_PER_SOCKET = 20;

/**
 * Live viewers: `join_video` puts the socket in the video's room (it then receives
 * `viewer_count_update`) and counts its user as a viewer; `leave_video` and disconnecting
 * undo both. The ack carries the current count.
 */
@RealtimeGateway()
export class VideosGateway implements OnGatewayDisconnect {
  private readonly logger = new Logger('VideoViewers');

  constructor(
    private readonly videos: VideosService,
    private readonly viewers: VideoViewersService,
  ) {}

  private watching(socket: Socket): Set<string> {
    return ((socket.data.videos as Set<string> | undefined) ??= new Set<string>());
  }

  @SubscribeMessage('join_video')
  async join(@ConnectedSocket() socket: Socket, @CurrentUser() user: AuthUser, @MessageBody() dto: VideoRefDto) {
    await this.videos.spec(dto.videoId);
    const set = this.watching(socket);
    if (set.has(dto.videoId)) return ok({ videoId: dto.videoId, viewerCount: await this.viewers.count(dto.videoId) });
    if (set.size >= MAX_VIDEOS_PER_SOCKET) {
      throw badRequest(`A socket may watch at most ${MAX_VIDEOS_PER_SOCKET} videos at once`);
    }
    set.add(dto.videoId);
    await socket.join(videoRoom(dto.videoId));
    const viewerCount = await this.viewers.join(dto.videoId, user.id);
    return ok({ videoId: dto.videoId, viewerCount });
  }

  @SubscribeMessage('leave_video')
  async leave(@ConnectedSocket() socket: Socket, @CurrentUser() user: AuthUser, @MessageBody() dto: VideoRefDto) {
    const set = this.watching(socket);
    if (!set.delete(dto.videoId)) return ok({ videoId: dto.videoId, viewerCount: await this.viewers.count(dto.videoId) });
    await socket.leave(videoRoom(dto.videoId));
    const viewerCount = await this.viewers.leave(dto.videoId, user.id);
    return ok({ videoId: dto.videoId, viewerCount });
  }

  handleDisconnect(socket: Socket) {
    const user = socket.data.user as AuthUser | undefined;
    const set = socket.data.videos as Set<string> | undefined;
    if (!user || !set?.size) return;
    for (const videoId of set) {
      this.viewers.leave(videoId, user.id).catch((e) => this.logger.warn(`viewer leave on disconnect failed: ${(e as Error).message}`));
    }
    set.clear();
  }
}
