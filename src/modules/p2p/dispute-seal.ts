/**
 * The seal of a dispute: a SHA-256 over the trade's terms, the dispute (who, why, evidence URLs)
 * and the trade chat up to the moment the dispute was opened. Stored when the dispute opens,
 * so an arbitrator can later show that the record they judged is the record the parties saw
 * (chat messages are append-only; recomputing the seal over the same messages gives the same
 * hash). Pure: no database, no Nest.
 *
 * Canonical form (version 1): JSON of a fixed-order array, so field order or whitespace never
 * changes the hash:
 *   ["softchat.p2p.dispute.v1", escrow terms [...], dispute [...], chat roomId, [[seq, senderId, content, createdAt], ...]]
 */
import { createHash } from 'node:crypto';

export interface SealInput {
  escrow: {
    id: string;
    sellerId: string;
    buyerId: string;
    asset: string;
    amount: string;
    fiatCurrency: string;
    fiatAmount: string;
    paymentMethod: string;
  };
  dispute: { openedBy: string | null; openedByRole: string; reason: string; evidence: string[] };
  chatRoomId: string | null;
  /** Messages of the trade chat, oldest first. */
  messages: { seq: number; senderId: string | null; content: string; createdAt: string }[];
}

export const SEAL_VERSION = 'softchat.p2p.dispute.v1';

export function canonicalSealPayload(s: SealInput): string {
  const e = s.escrow;
  return JSON.stringify([
    SEAL_VERSION,
    [e.id, e.sellerId, e.buyerId, e.asset, e.amount, e.fiatCurrency, e.fiatAmount, e.paymentMethod],
    [s.dispute.openedBy, s.dispute.openedByRole, s.dispute.reason, [...s.dispute.evidence]],
    s.chatRoomId,
    [...s.messages].sort((a, b) => a.seq - b.seq).map((m) => [m.seq, m.senderId, m.content, m.createdAt]),
  ]);
}

export function sealDispute(s: SealInput): string {
  return createHash('sha256').update(canonicalSealPayload(s), 'utf8').digest('hex');
}

/** Evidence is a list of links (screenshots, bank statements hosted elsewhere): http(s) URLs only. */
export const MAX_EVIDENCE = 10;
export const MAX_EVIDENCE_URL = 2000;

export function checkEvidence(raw: unknown): { ok: true; urls: string[] } | { ok: false; message: string } {
  if (raw === undefined || raw === null) return { ok: true, urls: [] };
  if (!Array.isArray(raw)) return { ok: false, message: 'evidence must be a list of URLs' };
  if (raw.length > MAX_EVIDENCE) return { ok: false, message: `evidence may hold at most ${MAX_EVIDENCE} URLs` };
  const urls: string[] = [];
  for (const [i, v] of raw.entries()) {
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_EVIDENCE_URL) {
      return { ok: false, message: `evidence[${i}] must be a URL of at most ${MAX_EVIDENCE_URL} characters` };
    }
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return { ok: false, message: `evidence[${i}] is not a valid URL` };
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return { ok: false, message: `evidence[${i}] must be an http(s) URL` };
    urls.push(u.toString());
  }
  return { ok: true, urls };
}
