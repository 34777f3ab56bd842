import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { Provider, type Client } from 'urql';
import { makeSubject } from 'wonka';
import { describe, expect, it } from 'vitest';
import { setChannel } from '../../lib/connection';
import { useRoomMessages } from './useRoomMessages';
import type { ChatMessage } from './messages';

const msg = (seq: number): ChatMessage => ({ id: `m${seq}`, roomId: 'r1', seq, senderId: 'bob', senderUsername: 'bob', content: `hello ${seq}`, createdAt: new Date(seq * 1000).toISOString() });

/**
 * A stand-in for the server behind urql: a room whose messages the test adds, answering the
 * newest page (newest first) and `afterSeq` catch-ups (oldest first), and a live subject the
 * test drives like the graphql-ws subscription (which drops messages while disconnected).
 */
function fakeClient() {
  const room: ChatMessage[] = [];
  const live = makeSubject<{ data: { messageAdded: ChatMessage } }>();
  const queries: Record<string, unknown>[] = [];
  const client = {
    query: (_q: string, vars: { afterSeq?: number; cursor?: string; limit?: number }) => {
      queries.push(vars);
      const limit = vars.limit ?? 50;
      const items = vars.afterSeq !== undefined ? room.filter((m) => m.seq > vars.afterSeq!).slice(0, limit) : [...room].reverse().slice(0, limit);
      return { toPromise: async () => ({ data: { chatMessages: { items, nextCursor: null } } }) };
    },
    executeSubscription: () => live.source,
  } as unknown as Client;
  return { client, room, live, queries };
}

const wrap = (client: Client) =>
  function W({ children }: { children: ReactNode }) {
    return <Provider value={client}>{children}</Provider>;
  };

describe('useRoomMessages', () => {
  it('after a reconnect, messages missed while offline appear once each, in seq order', async () => {
    const f = fakeClient();
    f.room.push(msg(1), msg(2), msg(3));
    setChannel('graphql', 'connected');
    const { result } = renderHook(() => useRoomMessages('r1'), { wrapper: wrap(f.client) });
    await waitFor(() => expect(result.current.messages.map((m) => m.seq)).toEqual([1, 2, 3]));

    // Live while connected.
    f.room.push(msg(4));
    act(() => f.live.next({ data: { messageAdded: msg(4) } }));
    expect(result.current.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);

    // The connection drops; 5..8 are sent meanwhile and never heard live.
    act(() => setChannel('graphql', 'reconnecting'));
    f.room.push(msg(5), msg(6), msg(7), msg(8));
    // Back: the subscription resumes (9 arrives live, maybe before the catch-up answers) …
    f.room.push(msg(9));
    act(() => {
      setChannel('graphql', 'connected');
      f.live.next({ data: { messageAdded: msg(9) } });
    });
    // … and the catch-up asks for everything after what we held.
    await waitFor(() => expect(result.current.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(f.queries.some((q) => q.afterSeq === 4)).toBe(true);

    // A duplicate delivery changes nothing.
    act(() => f.live.next({ data: { messageAdded: msg(9) } }));
    expect(result.current.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  });

  it('a live message that skips ahead triggers a catch-up of the gap', async () => {
    const f = fakeClient();
    f.room.push(msg(1));
    setChannel('graphql', 'connected');
    const { result } = renderHook(() => useRoomMessages('r1'), { wrapper: wrap(f.client) });
    await waitFor(() => expect(result.current.messages).toHaveLength(1));
    f.room.push(msg(2), msg(3), msg(4));
    act(() => f.live.next({ data: { messageAdded: msg(4) } }));
    await waitFor(() => expect(result.current.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]));
  });
});
