import { Module } from '@nestjs/common';
import { NotificationsController } from './notifications.controller';
import { NotificationsGateway } from './notifications.gateway';
import { NotificationJobs } from './notifications.jobs';
import { NotificationsResolver } from './notifications.resolver';
import { NotificationsService } from './notifications.service';

/** The in-app inbox. Import this module and inject `NotificationsService` to notify users. */
@Module({
  controllers: [NotificationsController],
  providers: [NotificationsService, NotificationJobs, NotificationsGateway, NotificationsResolver],
  exports: [NotificationsService],
})
export class NotificationsModule {}
