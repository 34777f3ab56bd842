import { describe, expect, it } from 'vitest';
import { contiguousSeq, lastSeq, mergeMessages, missingSeqs, revealsGap, type ChatMessage } from './messages';

const msg = (seq: number, content = `m${seq}`): ChatMessage => ({
  id: `id-${seq}`,
  roomId: 'r',
  seq,
  senderId: 'u',
  content,
  createdAt: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
});
const seqs = (l: ChatMessage[]) => l.map((m) => m.seq);

describe('mergeMessages', () => {
  it('appends live messages in order', () => {
    expect(seqs(mergeMessages([msg(1), msg(2)], [msg(3)]))).toEqual([1, 2, 3]);
  });

  it('drops duplicates (the echo of my send, a repeated subscription event, a catch-up overlap)', () => {
    const list = [msg(1), msg(2), msg(3)];
    expect(mergeMessages(list, [msg(2), msg(3)])).toBe(list);
    expect(seqs(mergeMessages(list, [msg(3), msg(4), msg(4)]))).toEqual([1, 2, 3, 4]);
  });

  it('prepends an older history page', () => {
    expect(seqs(mergeMessages([msg(51), msg(52)], [msg(50), msg(49), msg(48)]))).toEqual([48, 49, 50, 51, 52]);
  });

  it('after a reconnect, missed messages land in seq order whatever order they arrive in', () => {
    // Before the drop we held 1..3; live messages 7 and 8 arrived first, then the catch-up (4..8).
    let list = [msg(1), msg(2), msg(3)];
    list = mergeMessages(list, [msg(8)]);
    list = mergeMessages(list, [msg(7)]);
    expect(missingSeqs(list)).toEqual([4, 5, 6]);
    list = mergeMessages(list, [msg(4), msg(5), msg(6), msg(7), msg(8)]);
    expect(seqs(list)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(missingSeqs(list)).toEqual([]);
    expect(new Set(list.map((m) => m.id)).size).toBe(list.length);
  });
});

describe('gap detection', () => {
  it('a live message past lastSeq + 1 reveals a gap; the next one or an old one does not', () => {
    const list = [msg(1), msg(2)];
    expect(lastSeq(list)).toBe(2);
    expect(revealsGap(list, { seq: 3 })).toBe(false);
    expect(revealsGap(list, { seq: 2 })).toBe(false);
    expect(revealsGap(list, { seq: 5 })).toBe(true);
    expect(revealsGap([], { seq: 9 })).toBe(false);
    expect(lastSeq([])).toBe(0);
  });
});

describe('contiguousSeq', () => {
  it('is where the catch-up starts: below the first hole, or the end', () => {
    expect(contiguousSeq([])).toBe(0);
    expect(contiguousSeq([msg(3), msg(4), msg(5)])).toBe(5);
    expect(contiguousSeq([msg(3), msg(4), msg(8), msg(9)])).toBe(4);
  });
});
