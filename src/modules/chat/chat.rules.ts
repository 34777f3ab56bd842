import { badRequest } from '../../core/http/domain-error';

/* Pure input rules shared by every transport (unit-tested in chat.rules.spec.ts). */

// Postgres text cannot hold NUL; other C0 controls (except tab and newlines) have no place in chat.
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Message content: non-blank, at most `max` characters, no control characters. Kept verbatim. */
export function checkContent(content: unknown, max: number): string {
  if (typeof content !== 'string') throw badRequest(['content must be a string']);
  if (!content.trim()) throw badRequest(['content must not be empty']);
  if (content.length > max) throw badRequest([`content must be at most ${max} characters long`]);
  if (FORBIDDEN_CONTROL.test(content)) throw badRequest(['content must not contain control characters']);
  return content;
}

/** Room names: trimmed, 1 to 100 characters, one line. */
export function checkRoomName(name: unknown): string {
  if (typeof name !== 'string') throw badRequest(['name must be a string']);
  const trimmed = name.trim();
  if (!trimmed) throw badRequest(['name must not be empty']);
  if (trimmed.length > 100) throw badRequest(['name must be at most 100 characters long']);
  if (/[\u0000-\u001F\u007F]/.test(trimmed)) throw badRequest(['name must be a single line without control characters']);
  return trimmed;
}

export const CLIENT_MESSAGE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Longest message content (characters). */
export const MAX_CONTENT_LENGTH = 4000;
/** Typing stops by itself after this much silence (CONTRACT §4: 5 s). */
export const TYPING_TTL_MS = 5000;
/** At most this many missed messages come with a `join_room` ack; the rest via REST `afterSeq`. */
export const CATCH_UP_LIMIT = 200;
