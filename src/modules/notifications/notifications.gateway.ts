import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { CurrentUser } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { RealtimeGateway, ok } from '../../core/realtime/realtime-gateway.decorator';
import { MarkNotificationReadDto } from './dto/notifications.dto';
import { NotificationsService } from './notifications.service';

@RealtimeGateway()
export class NotificationsGateway {
  constructor(private readonly notifications: NotificationsService) {}

  /** Ack: `{ notification, unreadCount }`. */
  @SubscribeMessage('mark_notification_read')
  async markRead(@CurrentUser() user: AuthUser, @MessageBody() dto: MarkNotificationReadDto) {
    return ok(await this.notifications.markRead(user, dto.notificationId));
  }
}
