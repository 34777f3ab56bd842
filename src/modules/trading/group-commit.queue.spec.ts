import { GroupCommitQueue } from './group-commit.queue';

/** A queue whose scheduled turns wait in a list until the test runs them (the pair's writer, by hand). */
function harness(maxBatch: number, defer: (batch: string[]) => string[] = () => []) {
  const turns: { key: string; run: () => Promise<void> }[] = [];
  const batches: { key: string; items: string[] }[] = [];
  const q = new GroupCommitQueue<string>({
    maxBatch,
    schedule: (key, run) => turns.push({ key, run }),
    process: async (key, items) => {
      batches.push({ key, items });
      return defer(items);
    },
  });
  const next = async () => {
    const t = turns.shift();
    if (!t) throw new Error('no turn scheduled');
    await t.run();
  };
  return { q, turns, batches, next };
}

describe('GroupCommitQueue', () => {
  it('schedules one turn for the items that queue up before it runs, and hands them over together in order', async () => {
    const h = harness(10);
    h.q.push('BTC-USD', 'a');
    h.q.push('BTC-USD', 'b');
    h.q.push('BTC-USD', 'c');
    expect(h.turns).toHaveLength(1);
    expect(h.q.waiting('BTC-USD')).toBe(3);
    await h.next();
    expect(h.batches).toEqual([{ key: 'BTC-USD', items: ['a', 'b', 'c'] }]);
    expect(h.q.waiting('BTC-USD')).toBe(0);
    expect(h.turns).toHaveLength(0);
  });

  it('keeps keys apart', async () => {
    const h = harness(10);
    h.q.push('BTC-USD', 'a');
    h.q.push('ETH-USD', 'x');
    h.q.push('BTC-USD', 'b');
    expect(h.turns.map((t) => t.key)).toEqual(['BTC-USD', 'ETH-USD']);
    await h.next();
    await h.next();
    expect(h.batches).toEqual([
      { key: 'BTC-USD', items: ['a', 'b'] },
      { key: 'ETH-USD', items: ['x'] },
    ]);
  });

  it('takes at most maxBatch items a turn; the rest go next turn, ahead of later arrivals', async () => {
    const h = harness(2);
    for (const x of ['a', 'b', 'c', 'd', 'e']) h.q.push('P', x);
    await h.next();
    // Arrives after the first turn took its batch: queued behind the overflow.
    h.q.push('P', 'f');
    expect(h.turns).toHaveLength(1);
    await h.next();
    await h.next();
    expect(h.batches.map((b) => b.items)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
    expect(h.turns).toHaveLength(0);
  });

  it('puts the items a turn deferred back at the head, before what arrived meanwhile', async () => {
    // The first batch hands back its last two items (they needed a lock held elsewhere).
    let first = true;
    const h = harness(10, (items) => (first ? ((first = false), items.slice(1)) : []));
    h.q.push('P', 'a');
    h.q.push('P', 'b');
    h.q.push('P', 'c');
    const turn = h.next();
    h.q.push('P', 'd'); // arrives while the first turn is processing
    await turn;
    expect(h.turns).toHaveLength(1);
    await h.next();
    expect(h.batches.map((b) => b.items)).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c', 'd'],
    ]);
  });

  it('an item pushed after a turn emptied the queue schedules a new turn', async () => {
    const h = harness(10);
    h.q.push('P', 'a');
    await h.next();
    h.q.push('P', 'b');
    expect(h.turns).toHaveLength(1);
    await h.next();
    expect(h.batches.map((b) => b.items)).toEqual([['a'], ['b']]);
  });
});
