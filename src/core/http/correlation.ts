import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const VALID = /^[A-Za-z0-9._:-]{8,128}$/;

/** A caller-given X-Request-Id is kept when it looks sane, otherwise a new one is made. */
export function genRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const v = Array.isArray(given) ? given[0] : given;
  return v && VALID.test(v) ? v : randomUUID();
}

export function correlationIdOf(req: unknown): string | undefined {
  const r = req as { id?: unknown };
  return typeof r?.id === 'string' ? r.id : undefined;
}
