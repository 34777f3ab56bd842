import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { ListNotificationsQueryDto, SendNotificationDto } from './dto/notifications.dto';
import { NotificationDispatchType, NotificationPageType, NotificationType, NotificationsReadAllType } from './dto/notifications.types';
import { dispatchTarget } from './notifications.controller';
import { notificationTopic } from './notifications.events';
import { NotificationView, NotificationsService } from './notifications.service';

@Resolver()
export class NotificationsResolver {
  constructor(
    private readonly inbox: NotificationsService,
    private readonly pubsub: GqlPubSub,
  ) {}

  /** The caller's inbox, newest first. */
  @Query(() => NotificationPageType)
  notifications(@CurrentUser() user: AuthUser, @Args() q: ListNotificationsQueryDto) {
    return this.inbox.list(user.id, q);
  }

  @Mutation(() => NotificationType)
  async markNotificationRead(@CurrentUser() user: AuthUser, @Args('id', { type: () => ID }, new ParseUUIDPipe()) id: string) {
    return (await this.inbox.markRead(user, id)).notification;
  }

  @Mutation(() => NotificationsReadAllType)
  markAllNotificationsRead(@CurrentUser() user: AuthUser) {
    return this.inbox.markAllRead(user.id);
  }

  @Roles('admin')
  @Mutation(() => NotificationDispatchType)
  sendNotification(@Args('input') input: SendNotificationDto) {
    return this.inbox.dispatch(dispatchTarget(input), input);
  }

  /** The caller's new notifications, on every device. */
  @Subscription(() => NotificationType, { resolve: (p: { notificationAdded: NotificationView }) => p.notificationAdded })
  notificationAdded(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(notificationTopic(user.id));
  }
}
