import { plan } from '../../core/realtime/announce';
import { MessageReceived, MessagesAdded, TypingStarted, TypingStopped, UserJoined, UserLeft, chatRoomChannel } from './chat.events';
import type { MessageView } from './chat.views';

const message: MessageView = { id: 'm1', roomId: 'r1', seq: 1, senderId: 'u1', senderUsername: 'ann', content: 'hi', clientMessageId: null, createdAt: '2026-01-01T00:00:00.000Z' };

describe('chat events', () => {
  it('sends each message to the room and a batch to GraphQL once', () => {
    expect(plan(MessageReceived, { roomId: 'r1', message }, { room: chatRoomChannel('r1') })).toEqual({
      emit: { audience: { room: 'chat:room:r1' }, event: 'message_received', payload: { roomId: 'r1', message } },
      publishes: [],
    });
    expect(plan(MessagesAdded, { roomId: 'r1', messages: [message] }, { none: true })).toEqual({ publishes: [['chat:msg:r1', { messagesAdded: [message] }]] });
  });

  it('tells the room who joined and left, and ends the leaver subscriptions', () => {
    expect(plan(UserJoined, { roomId: 'r1', userId: 'u2' }, { roomExceptUser: [chatRoomChannel('r1'), 'u2'] }).emit).toMatchObject({ event: 'user_joined', payload: { roomId: 'r1', userId: 'u2' } });
    expect(plan(UserLeft, { roomId: 'r1', userId: 'u2' }, { room: chatRoomChannel('r1') })).toEqual({
      emit: { audience: { room: 'chat:room:r1' }, event: 'user_left', payload: { roomId: 'r1', userId: 'u2' } },
      publishes: [['chat:left:r1:u2', { left: true }]],
    });
  });

  it('announces typing without the flag on sockets and with it on GraphQL', () => {
    const start = plan(TypingStarted, { roomId: 'r1', userId: 'u1', typing: true }, { roomExceptUser: ['chat:room:r1', 'u1'] });
    expect(start.emit).toMatchObject({ event: 'typing_started', payload: { roomId: 'r1', userId: 'u1' } });
    expect(start.publishes).toEqual([['chat:typing:r1', { typingChanged: { roomId: 'r1', userId: 'u1', typing: true } }]]);
    expect(plan(TypingStopped, { roomId: 'r1', userId: 'u1', typing: false }, { none: true }).publishes[0][0]).toBe('chat:typing:r1');
  });
});
