import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { OwnerOrAdmin } from '../../core/auth/ownership';
import { badRequest } from '../../core/http/domain-error';
import { ListNotificationsQueryDto, SendNotificationDto } from './dto/notifications.dto';
import { DispatchTarget, NotificationsService } from './notifications.service';

const uuid = () => new ParseUUIDPipe();

export function dispatchTarget(dto: SendNotificationDto): DispatchTarget {
  if (dto.broadcast === true && dto.userIds?.length) throw badRequest(['send either userIds or broadcast: true, not both']);
  if (dto.broadcast === true) return { broadcast: true };
  if (!dto.userIds?.length) throw badRequest(['userIds or broadcast: true is required']);
  return { userIds: dto.userIds };
}

@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  /** Admins: to users or to everyone. 202 at once; a BullMQ job fans it out in batches. */
  @Roles('admin')
  @Post('send')
  @HttpCode(202)
  send(@Body() dto: SendNotificationDto) {
    return this.notifications.dispatch(dispatchTarget(dto), dto);
  }

  @OwnerOrAdmin()
  @Get(':userId')
  list(@Param('userId', uuid()) userId: string, @Query() q: ListNotificationsQueryDto) {
    return this.notifications.list(userId, q);
  }

  @Put(':notificationId/read')
  async read(@CurrentUser() user: AuthUser, @Param('notificationId', uuid()) id: string) {
    return (await this.notifications.markRead(user, id)).notification;
  }

  @OwnerOrAdmin()
  @Put(':userId/read-all')
  readAll(@Param('userId', uuid()) userId: string) {
    return this.notifications.markAllRead(userId);
  }
}
