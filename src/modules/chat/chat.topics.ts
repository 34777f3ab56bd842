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
