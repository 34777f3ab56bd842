import { audienceUsers, defineEvent } from '../../core/realtime/announce';
import type { PresenceStatus } from './presence.rules';

/** GraphQL topic of the presence changes one user (the recipient) may see. */
export const presenceTopic = (recipientId: string) => `presence:${recipientId}`;

export interface PresenceChangedView {
  userId: string;
  status: PresenceStatus;
  lastSeenAt: string | null;
}

/** `presenceChanged` on each recipient's own topic (the audience's users). */
const perRecipient = (p: PresenceChangedView, audience: Parameters<typeof audienceUsers>[0]) =>
  audienceUsers(audience).map((id) => [presenceTopic(id), { presenceChanged: p }] as const);

/** A user came online or changed status: `user_online` to the recipients' sockets. */
export const UserOnline = defineEvent<PresenceChangedView>({
  socket: { event: 'user_online', payload: (p) => ({ userId: p.userId, status: p.status }) },
  graphql: perRecipient,
});

/** A user went offline: `user_offline` (with the last-seen time, now if unknown). */
export const UserOffline = defineEvent<PresenceChangedView>({
  socket: { event: 'user_offline', payload: (p) => ({ userId: p.userId, lastSeenAt: p.lastSeenAt ?? new Date().toISOString() }) },
  graphql: perRecipient,
});
