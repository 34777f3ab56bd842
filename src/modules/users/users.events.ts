import { defineEvent } from '../../core/realtime/announce';
import type { PublicUser } from './users.service';

/** GraphQL topic for changes to one user's account. */
export const userUpdatedTopic = (userId: string) => `user-updated:${userId}`;

/** The user's account changed (roles set by an admin): `user_updated` `{ user }` to their sockets, `userUpdated` on GraphQL. */
export const UserUpdated = defineEvent<PublicUser>({
  socket: { event: 'user_updated', payload: (user) => ({ user }) },
  graphql: { topic: (u) => userUpdatedTopic(u.id), field: 'userUpdated' },
});
