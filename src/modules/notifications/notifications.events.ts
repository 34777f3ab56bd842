import { defineEvent } from '../../core/realtime/announce';
import type { NotificationView } from './notifications.service';

/** GraphQL topic of one user's new notifications. */
export const notificationTopic = (userId: string) => `notifications:${userId}`;

/** A notification stored: `new_notification` to the user's sockets, `notificationAdded` on GraphQL. */
export const NotificationAdded = defineEvent<NotificationView>({
  socket: { event: 'new_notification', payload: (notification) => ({ notification }) },
  graphql: { topic: (n) => notificationTopic(n.userId), field: 'notificationAdded' },
});
