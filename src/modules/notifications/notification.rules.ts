import { badRequest } from '../../core/http/domain-error';

/* Pure rules for notification input (unit-tested in notification.rules.spec.ts). */

export interface NotifyInput {
  /** A short kind: system, announcement, tip, escrow, order, reward, chat, ... */
  type: string;
  title: string;
  body: string;
  /** Free-form JSON object for the client (ids to link to, amounts as strings, ...). */
  data?: Record<string, unknown>;
}

export const TYPE_PATTERN = /^[a-z][a-z0-9_.-]{0,31}$/;
export const MAX_TITLE = 200;
export const MAX_BODY = 2000;
export const MAX_DATA_BYTES = 8192;
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Validates and normalises; every problem is reported at once, each naming its field. */
export function checkNotifyInput(input: Partial<NotifyInput> | null | undefined): Required<NotifyInput> {
  const errors: string[] = [];
  const i = input ?? {};
  if (typeof i.type !== 'string' || !TYPE_PATTERN.test(i.type)) {
    errors.push('type must be a short lower-case word (letters, digits, . _ -), at most 32 characters, e.g. "system"');
  }
  const title = typeof i.title === 'string' ? i.title.trim() : '';
  if (!title) errors.push('title must be a non-empty string');
  else if (title.length > MAX_TITLE) errors.push(`title must be at most ${MAX_TITLE} characters long`);
  else if (CONTROL.test(title)) errors.push('title must not contain control characters');
  const body = typeof i.body === 'string' ? i.body : '';
  if (typeof i.body !== 'string' || !body.trim()) errors.push('body must be a non-empty string');
  else if (body.length > MAX_BODY) errors.push(`body must be at most ${MAX_BODY} characters long`);
  else if (CONTROL.test(body)) errors.push('body must not contain control characters');
  let data: Record<string, unknown> = {};
  if (i.data !== undefined && i.data !== null) {
    if (!isPlainObject(i.data)) errors.push('data must be a JSON object');
    else {
      const json = JSON.stringify(i.data);
      if (Buffer.byteLength(json) > MAX_DATA_BYTES) errors.push(`data must be at most ${MAX_DATA_BYTES} bytes of JSON`);
      else if (json.includes('\\u0000')) errors.push('data must not contain NUL characters');
      else data = JSON.parse(json) as Record<string, unknown>;
    }
  }
  if (errors.length) throw badRequest(errors);
  return { type: i.type!, title, body, data };
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** GraphQL topic of one user's new notifications. */
