import { Announcer, Audience, audienceUsers, defineEvent, deliver, plan, SocketSink, TopicSink } from './announce';

/** Records what an announcement sends: the publisher and pubsub calls, in order. */
function fakes(opts: { failPublish?: boolean } = {}) {
  const calls: unknown[][] = [];
  const sockets: SocketSink = {
    toUser: (...a: unknown[]) => void calls.push(['toUser', ...a]),
    toRoom: (...a: unknown[]) => void calls.push(['toRoom', ...a]),
    toRoomExceptUser: (...a: unknown[]) => void calls.push(['toRoomExceptUser', ...a]),
  } as SocketSink;
  const topics: TopicSink = {
    publish: (topic: string, payload: unknown) => {
      calls.push(['publish', topic, payload]);
      return opts.failPublish ? Promise.reject(new Error('redis down')) : Promise.resolve();
    },
  };
  return { calls, sockets, topics };
}

interface Tip {
  id: string;
  creatorId: string;
}
const TipReceived = defineEvent<Tip>({
  socket: { event: 'tip_received', payload: (tip) => ({ tip: tip as never }) },
  graphql: { topic: (t) => `tips:${t.creatorId}`, field: 'tipReceived' },
});
const tip: Tip = { id: 't1', creatorId: 'c1' };

describe('defineEvent + plan (pure routing)', () => {
  it('maps each audience to the matching publisher call', () => {
    const cases: [Audience, unknown[]][] = [
      [{ user: 'u1' }, ['toUser', 'u1', 'tip_received', { tip }]],
      [{ users: ['u1', 'u2'] }, ['toUser', ['u1', 'u2'], 'tip_received', { tip }]],
      [{ room: 'room:1' }, ['toRoom', 'room:1', 'tip_received', { tip }]],
      [{ room: ['a', 'b'] }, ['toRoom', ['a', 'b'], 'tip_received', { tip }]],
      [{ roomExceptUser: ['room:1', 'u9'] }, ['toRoomExceptUser', 'room:1', 'u9', 'tip_received', { tip }]],
    ];
    for (const [audience, emit] of cases) {
      const f = fakes();
      void deliver(plan(TipReceived, tip, audience), f.sockets, f.topics);
      expect(f.calls).toEqual([emit, ['publish', 'tips:c1', { tipReceived: tip }]]);
    }
  });

  it('a `none` audience publishes on GraphQL only', () => {
    const f = fakes();
    void deliver(plan(TipReceived, tip, { none: true }), f.sockets, f.topics);
    expect(f.calls).toEqual([['publish', 'tips:c1', { tipReceived: tip }]]);
  });

  it('a socket name sends the payload as it is; no graphql spec publishes nothing', () => {
    const Joined = defineEvent<{ roomId: string; userId: string }>({ socket: 'user_joined' });
    const p = plan(Joined, { roomId: 'r', userId: 'u' }, { room: 'chat:r' });
    expect(p).toEqual({ emit: { audience: { room: 'chat:r' }, event: 'user_joined', payload: { roomId: 'r', userId: 'u' } }, publishes: [] });
  });

  it('a GraphQL-only event emits nothing on sockets whatever the audience', () => {
    const Stats = defineEvent<{ creatorId: string; views: number }>({ graphql: { topic: (s) => `stats:${s.creatorId}`, field: 'creatorStatsUpdated' } });
    const p = plan(Stats, { creatorId: 'c', views: 3 }, { user: 'c' });
    expect(p.emit).toBeUndefined();
    expect(p.publishes).toEqual([['stats:c', { creatorStatsUpdated: { creatorId: 'c', views: 3 } }]]);
  });

  it('a topic function may return several topics and see the audience', () => {
    const Tx = defineEvent<{ transactionId: string }>({
      socket: { event: 'transaction_complete', payload: (v) => ({ ...v, details: {} as never }) },
      graphql: { topic: (_v, a) => audienceUsers(a).map((u) => `tx:${u}`), field: 'transactionCompleted' },
    });
    const p = plan(Tx, { transactionId: 'x' }, { users: ['a', 'b'] });
    expect(p.publishes).toEqual([
      ['tx:a', { transactionCompleted: { transactionId: 'x' } }],
      ['tx:b', { transactionCompleted: { transactionId: 'x' } }],
    ]);
  });

  it('a graphql function gives the exact topic/payload pairs', () => {
    const Batch = defineEvent<{ roomId: string; ids: string[] }>({ graphql: (b) => [[`msg:${b.roomId}`, { messagesAdded: b.ids }]] });
    expect(plan(Batch, { roomId: 'r', ids: ['1'] }, { none: true }).publishes).toEqual([['msg:r', { messagesAdded: ['1'] }]]);
  });

  it('type-checks socket payloads against the event map', () => {
    // A payload that is not the event's: refused at compile time (ts-jest type-checks specs).
    // @ts-expect-error Tip is not tip_received's `{ tip }`
    defineEvent<Tip>({ socket: 'tip_received' });
    // @ts-expect-error the payload builder must return the event's shape
    defineEvent<Tip>({ socket: { event: 'user_joined', payload: (t) => ({ roomId: t.id }) } });
    expect(defineEvent<{ roomId: string; userId: string }>({ socket: 'typing_started' }).socket?.event).toBe('typing_started');
  });

  it('audienceUsers names only direct users', () => {
    expect(audienceUsers({ user: 'a' })).toEqual(['a']);
    expect(audienceUsers({ users: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(audienceUsers({ room: 'r' })).toEqual([]);
    expect(audienceUsers({ none: true })).toEqual([]);
  });
});

describe('Announcer', () => {
  it('never rejects when a publish fails, and logs it', async () => {
    const f = fakes({ failPublish: true });
    const warn = jest.fn();
    await expect(deliver(plan(TipReceived, tip, { user: 'c1' }), f.sockets, f.topics, { warn })).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('tips:c1'));
  });

  it('announceAfterCommit sends nothing until the transaction commits', async () => {
    const f = fakes();
    const announcer = new Announcer(f.sockets as never, f.topics as never);
    const hooks: (() => unknown)[] = [];
    announcer.announceAfterCommit({ afterCommit: (fn) => void hooks.push(fn) }, TipReceived, tip, { user: 'c1' });
    expect(f.calls).toEqual([]);
    await Promise.all(hooks.map((h) => h()));
    expect(f.calls).toEqual([
      ['toUser', 'c1', 'tip_received', { tip }],
      ['publish', 'tips:c1', { tipReceived: tip }],
    ]);
  });
});
