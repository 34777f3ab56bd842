import { Logger } from '@nestjs/common';
import { MessageBody, OnGatewayConnection, OnGatewayDisconnect, SubscribeMessage } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { CurrentUser } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { RealtimeGateway, ok } from '../../core/realtime/realtime-gateway.decorator';
import { UpdatePresenceDto } from './dto/presence.dto';
import { PresenceService } from './presence.service';

/** Counts every authenticated socket into presence and answers `update_presence`. */
@RealtimeGateway()
export class PresenceGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('Presence');
  constructor(private readonly presence: PresenceService) {}

  handleConnection(socket: Socket) {
    const user = socket.data.user as AuthUser | undefined;
    if (!user) return;
    socket.data.presenceCounted = true;
    this.presence.connected(user.id).catch((e) => this.logger.warn(`presence connect failed: ${(e as Error).message}`));
  }

  handleDisconnect(socket: Socket) {
    const user = socket.data.user as AuthUser | undefined;
    if (!user || !socket.data.presenceCounted) return;
    this.presence.disconnected(user.id).catch((e) => this.logger.warn(`presence disconnect failed: ${(e as Error).message}`));
  }

  @SubscribeMessage('update_presence')
  async update(@CurrentUser() user: AuthUser, @MessageBody() dto: UpdatePresenceDto) {
    return ok(await this.presence.setStatus(user.id, dto.status));
  }
}
