import {
  CallHandler,
  ExecutionContext,
  HttpException,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';
import { Observable, from, lastValueFrom } from 'rxjs';
import type { DataSource } from 'typeorm';
import { badRequest, conflict } from './domain-error';
import { normalizeError } from './error-normalizer';
import type { AuthUser } from '../auth/auth-user';

const SCOPE = 'softchat:idempotencyScope';
const KEY_RE = /^[A-Za-z0-9._:-]{1,255}$/;
/** An in-flight record older than this was abandoned (crash); the request may run again. */
const STALE_MS = 60_000;

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** The request path without its query (what `req.baseUrl + req.path` gave under Express: stored hashes stay valid). */
function pathOf(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q < 0 ? req.url : req.url.slice(0, q);
}

export function requestHash(req: FastifyRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([req.method, pathOf(req), canonical(req.body ?? null)]))
    .digest('hex');
}

/**
 * One rule for idempotency keys everywhere (REST header and GraphQL argument alike): 1 to 255
 * characters of letters, digits and `._:-`. Throws 400 naming `field` otherwise.
 */
export function parseIdempotencyKey(raw: unknown, field = 'Idempotency-Key'): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' || !KEY_RE.test(raw)) throw badRequest(`${field} must be 1-255 characters of letters, digits and ._:-`, { field });
  return raw;
}

/** The validated `Idempotency-Key` header, or undefined when absent. */
export function idempotencyKeyOf(req: { headers: IncomingHttpHeaders }): string | undefined {
  const raw = req.headers['idempotency-key'];
  return parseIdempotencyKey(Array.isArray(raw) ? raw[0] : raw);
}

/** Keys up to this length are used verbatim inside derived references. */
export const SHORT_KEY_MAX = 40;

/**
 * The form of a client's key to embed in ledger keys, order ids and other bounded columns:
 * the key itself when short, else `~` + base64url(SHA-256(key)) (44 characters). `~` is not
 * a key character, so a digest never equals a short key, and two long keys never collide
 * (unlike truncation, which makes keys sharing a prefix the same).
 */
export function keyToken(key: string): string {
  return key.length <= SHORT_KEY_MAX ? key : `~${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * `Idempotency-Key` for POSTs that move money (Stripe's semantics): the first response (a
 * success or a 4xx) is stored per user and key; a replay with the same body gets it back with
 * `Idempotent-Replayed: true` and runs nothing; the same key with another body → 409; a replay
 * while the first is still running → 409. Services also receive the key, so even a replay after
 * a crash between commit and storing the response moves nothing twice.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const scope = this.reflector.get<string>(SCOPE, ctx.getHandler());
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const res = ctx.switchToHttp().getResponse<FastifyReply>();
    const key = idempotencyKeyOf(req);
    if (!scope || !key || !req.user) return next.handle();
    return from(this.run(scope, key, req, res, next, ctx.getHandler()));
  }

  private async run(scope: string, key: string, req: FastifyRequest & { user?: AuthUser }, res: FastifyReply, next: CallHandler, handler: Function, attempt = 0): Promise<unknown> {
    const userId = req.user!.id;
    const hash = requestHash(req);
    const claimed = await this.ds.query(
      `INSERT INTO idempotency_keys (user_id, scope, key, request_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, scope, key) DO NOTHING RETURNING key`,
      [userId, scope, key, hash],
    );
    if (!claimed.length) {
      const [row] = await this.ds.query(
        `SELECT request_hash, status_code, response, created_at FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3`,
        [userId, scope, key],
      );
      // The first request failed and released the key between our INSERT and this SELECT: claim it again.
      if (!row) {
        if (attempt >= 3) throw conflict('A request with this Idempotency-Key is still being processed');
        return this.run(scope, key, req, res, next, handler, attempt + 1);
      }
      if (row.request_hash !== hash) throw conflict('Idempotency-Key was already used with a different request body');
      if (row.status_code === null) {
        if (Date.now() - new Date(row.created_at).getTime() < STALE_MS) {
          throw conflict('A request with this Idempotency-Key is still being processed');
        }
        // Abandoned by a crashed instance: run again (the service's own key prevents a second movement).
        await this.ds.query(`UPDATE idempotency_keys SET created_at = now() WHERE user_id = $1 AND scope = $2 AND key = $3`, [userId, scope, key]);
      } else {
        res.header('Idempotent-Replayed', 'true');
        if (row.status_code >= 400) throw new HttpException(row.response, row.status_code);
        return row.response;
      }
    }
    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      const status = this.reflector.get<number>(HTTP_CODE_METADATA, handler) ?? (req.method === 'POST' ? 201 : 200);
      await this.store(userId, scope, key, status, body ?? null);
      return body;
    } catch (e) {
      const n = normalizeError(e);
      if (n.statusCode >= 400 && n.statusCode < 500 && n.statusCode !== 409 && n.statusCode !== 429) {
        // A deterministic refusal (e.g. insufficient funds) is the request's result: replayed as is.
        await this.store(userId, scope, key, n.statusCode, {
          statusCode: n.statusCode,
          error: n.error,
          message: n.message,
          ...(n.details ? { details: n.details } : {}),
        });
      } else {
        await this.ds.query(`DELETE FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3`, [userId, scope, key]);
      }
      throw e;
    }
  }

  private store(userId: string, scope: string, key: string, status: number, body: unknown) {
    return this.ds.query(`UPDATE idempotency_keys SET status_code = $4, response = $5 WHERE user_id = $1 AND scope = $2 AND key = $3`, [
      userId,
      scope,
      key,
      status,
      JSON.stringify(body),
    ]);
  }
}

/** Marks a money-moving POST as honouring `Idempotency-Key` within `scope`. */
export const Idempotent = (scope: string) => applyDecorators(SetMetadata(SCOPE, scope), UseInterceptors(IdempotencyInterceptor));

