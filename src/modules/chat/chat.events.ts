import { defineEvent } from '../../core/realtime/announce';
import type { MessageView } from './chat.views';

/** The Socket.IO room of a chat room: only members' sockets are ever put in it (join_room checks). */
export const chatRoomChannel = (roomId: string) => `chat:room:${roomId}`;

/** GraphQL PubSub topics (GqlPubSub namespaces them by REDIS_PREFIX). */
export const messageTopic = (roomId: string) => `chat:msg:${roomId}`;
export const typingTopic = (roomId: string) => `chat:typing:${roomId}`;
/** Ends a member's room subscriptions when they leave or are removed. */
export const leftTopic = (roomId: string, userId: string) => `chat:left:${roomId}:${userId}`;

export interface LeftSignal {
  left: true;
}
export const isLeftSignal = (p: unknown): p is LeftSignal => !!p && typeof p === 'object' && (p as LeftSignal).left === true;

export interface TypingEvent {
  roomId: string;
  userId: string;
  typing: boolean;
}

/** One stored message: `message_received` to the room's sockets (audience: the room channel). */
export const MessageReceived = defineEvent<{ roomId: string; message: MessageView }>({ socket: 'message_received' });

/** A batch of stored messages: one `messagesAdded` publish on the room's topic (GraphQL only). */
export const MessagesAdded = defineEvent<{ roomId: string; messages: MessageView[] }>({
  graphql: (p) => [[messageTopic(p.roomId), { messagesAdded: p.messages }]],
});

/** Someone joined: `user_joined` to the room except the joiner. */
export const UserJoined = defineEvent<{ roomId: string; userId: string }>({ socket: 'user_joined' });

/** Someone left or was removed: `user_left` to the room, and their room subscriptions end. */
export const UserLeft = defineEvent<{ roomId: string; userId: string }>({
  socket: 'user_left',
  graphql: (p) => [[leftTopic(p.roomId, p.userId), { left: true } satisfies LeftSignal]],
});

const typingSocket = (e: TypingEvent) => ({ roomId: e.roomId, userId: e.userId });
const typingGraphql = { topic: (e: TypingEvent) => typingTopic(e.roomId), field: 'typingChanged' };

/** Typing: `typing_started` / `typing_stopped` to the room except the typist; `typingChanged` on GraphQL. */
export const TypingStarted = defineEvent<TypingEvent>({ socket: { event: 'typing_started', payload: typingSocket }, graphql: typingGraphql });
export const TypingStopped = defineEvent<TypingEvent>({ socket: { event: 'typing_stopped', payload: typingSocket }, graphql: typingGraphql });

/** GraphQL topic of the public room list: public rooms are visible to every signed-in user. */
export const PUBLIC_ROOMS_TOPIC = 'chat:public-rooms';

/** What everyone may know of a public room: the public list's own fields, nothing per viewer. */
export interface PublicRoomSummary {
  id: string;
  name: string;
  memberCount: number;
}

/** A public room was created, or its member count changed: `publicRoomChanged` on GraphQL. */
export const PublicRoomChanged = defineEvent<PublicRoomSummary>({
  graphql: { topic: () => PUBLIC_ROOMS_TOPIC, field: 'publicRoomChanged' },
});
