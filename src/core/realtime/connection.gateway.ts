import { Logger } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayConnection, OnGatewayDisconnect, SubscribeMessage } from '@nestjs/websockets';
import { IsInt, Max, Min } from 'class-validator';
import type { Socket } from 'socket.io';
import { MetricsService } from '../observability/metrics.service';
import { RealtimeGateway, ok } from './realtime-gateway.decorator';
import type { AuthUser } from '../auth/auth-user';

export class PingDto {
  /** The client's clock, in epoch milliseconds. */
  @IsInt()
  @Min(0)
  @Max(8_640_000_000_000_000)
  clientTime: number;
}

/** The connection-level gateway: counts sockets and answers `whoami` and `ping` (clock offset for players and timers). */
@RealtimeGateway()
export class ConnectionGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('Socket.IO');
  constructor(private readonly metrics: MetricsService) {}

  handleConnection(socket: Socket) {
    this.metrics.socketConnections.inc();
    this.logger.debug({ userId: (socket.data.user as AuthUser)?.id, socketId: socket.id }, 'socket connected');
  }

  handleDisconnect() {
    this.metrics.socketConnections.dec();
  }

  @SubscribeMessage('whoami')
  whoami(@ConnectedSocket() socket: Socket) {
    const user = socket.data.user as AuthUser;
    return ok({ userId: user.id, roles: user.roles, socketId: socket.id });
  }

  @SubscribeMessage('ping')
  ping(@MessageBody() body: PingDto) {
    return ok({ clientTime: body.clientTime, serverTime: Date.now() });
  }
}
