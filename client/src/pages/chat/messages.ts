/**
 * A room's message list as pure functions: messages are kept by `seq` (per room, gapless,
 * increasing), so history pages, live messages, the echo of one's own send and a catch-up after
 * a reconnect can arrive in any order and any number of times and still give one ordered list.
 */
export interface ChatMessage {
  id: string;
  roomId: string;
  seq: number;
  senderId: string | null;
  senderUsername?: string | null;
  content: string;
  clientMessageId?: string | null;
  createdAt: string;
}

/** Merges `incoming` into `list` (ascending by seq): no duplicates, ascending order. Returns `list` itself when nothing is new. */
export function mergeMessages(list: readonly ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return list as ChatMessage[];
  const have = new Set(list.map((m) => m.seq));
  const fresh: ChatMessage[] = [];
  for (const m of incoming) {
    if (have.has(m.seq)) continue;
    have.add(m.seq);
    fresh.push(m);
  }
  if (fresh.length === 0) return list as ChatMessage[];
  const last = list.length ? list[list.length - 1].seq : -Infinity;
  fresh.sort((a, b) => a.seq - b.seq);
  // The usual case (live message, catch-up): everything new comes after what we have.
  if (fresh[0].seq > last) return [...list, ...fresh];
  return [...list, ...fresh].sort((a, b) => a.seq - b.seq);
}

/** The highest seq held (0 for none): what to ask the server for after a reconnect (`afterSeq`). */
export function lastSeq(list: readonly ChatMessage[]): number {
  return list.length ? list[list.length - 1].seq : 0;
}

/**
 * The seq up to which the list is complete (no hole below it): a catch-up asks for everything
 * after it, so a live message that arrived ahead of a gap does not hide the gap.
 */
export function contiguousSeq(list: readonly ChatMessage[]): number {
  if (!list.length) return 0;
  for (let i = 1; i < list.length; i++) if (list[i].seq !== list[i - 1].seq + 1) return list[i - 1].seq;
  return list[list.length - 1].seq;
}

/**
 * Whether a live message shows that some were missed in between (so a catch-up is due). A message
 * at or below what we hold is a duplicate, not a gap; an empty list has nothing to be missing.
 */
export function revealsGap(list: readonly ChatMessage[], m: Pick<ChatMessage, 'seq'>): boolean {
  return list.length > 0 && m.seq > lastSeq(list) + 1;
}

/** Seqs missing inside the held range (should be none once catch-ups are done). */
export function missingSeqs(list: readonly ChatMessage[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < list.length; i++) for (let s = list[i - 1].seq + 1; s < list[i].seq; s++) out.push(s);
  return out;
}
