import { createHash, createHmac } from 'node:crypto';

/**
 * The public vote log of a battle and its SHA-256, so anyone can recount. Pure.
 *
 * Voters are pseudonymised per battle: `voter = hex(HMAC-SHA256(key = the battle's secret salt,
 * message = voterId))`, truncated to 32 hex digits. The same user has the same pseudonym in
 * one battle (so a double vote would show) and unrelated pseudonyms across battles; the salt is
 * never published, so nobody can test "did user X vote for Y" by hashing guessed ids.
 *
 * The hash (`resultHash`) is SHA-256, hex, over UTF-8 text: the line `softchat-battle-v1 <battleId>`
 * and then one line per vote in `seq` order, `<seq> <voter> <participantId> <at>`, each line
 * ending in `\n`; `at` is the ISO 8601 UTC time with milliseconds, as the log prints it.
 */

export const LOG_FORMAT = 'softchat-battle-v1';
export const HASH_FORMAT_DESCRIPTION =
  'SHA-256 (hex) of UTF-8 lines, each ending in "\\n": "softchat-battle-v1 <battleId>", then "<seq> <voter> <participantId> <at>" per vote in seq order';

export interface VoteRecord {
  seq: number;
  voterId: string;
  participantId: string;
  at: Date;
}

export interface LogEntry {
  seq: number;
  voter: string;
  participantId: string;
  at: string;
}

export function pseudonym(salt: string, voterId: string): string {
  return createHmac('sha256', salt).update(voterId.toLowerCase()).digest('hex').slice(0, 32);
}

export function toLogEntries(salt: string, votes: readonly VoteRecord[]): LogEntry[] {
  return [...votes]
    .sort((a, b) => a.seq - b.seq)
    .map((v) => ({ seq: v.seq, voter: pseudonym(salt, v.voterId), participantId: v.participantId, at: v.at.toISOString() }));
}

/** Recomputes the result hash from a published log (what a recount does). */
export function hashLog(battleId: string, entries: readonly LogEntry[]): string {
  const h = createHash('sha256');
  h.update(`${LOG_FORMAT} ${battleId}\n`);
  for (const e of [...entries].sort((a, b) => a.seq - b.seq)) h.update(`${e.seq} ${e.voter} ${e.participantId} ${e.at}\n`);
  return h.digest('hex');
}

/** Tallies a published log (a recount). */
export function recount(entries: readonly LogEntry[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) out.set(e.participantId, (out.get(e.participantId) ?? 0) + 1);
  return out;
}
