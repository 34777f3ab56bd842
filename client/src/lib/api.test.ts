import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError } from './api';
import { getTokens, onTokens, setTokens } from './tokens';

const user = { id: 'u1', username: 'alice', email: 'a@x.test', roles: ['user'] };
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A fake server: access tokens are valid only when listed; refresh tokens work once (rotation). */
function fakeServer() {
  const valid = new Set(['access-1']);
  const refreshable = new Set(['refresh-1']);
  let n = 1;
  const calls: { url: string; auth: string | null; key: string | null }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const headers = new Headers(init.headers);
    calls.push({ url, auth: headers.get('authorization'), key: headers.get('idempotency-key') });
    if (url === '/api/auth/refresh') {
      const { refreshToken } = JSON.parse(String(init.body));
      if (!refreshable.delete(refreshToken)) return json(401, { statusCode: 401, message: 'Refresh token revoked' });
      n += 1;
      valid.add(`access-${n}`);
      refreshable.add(`refresh-${n}`);
      return json(200, { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, user });
    }
    const token = headers.get('authorization')?.replace('Bearer ', '');
    if (!token || !valid.has(token)) return json(401, { statusCode: 401, message: 'Unauthorized' });
    if (url.startsWith('/api/bad')) return json(422, { statusCode: 422, code: 'INSUFFICIENT_FUNDS', message: 'Not enough USD' });
    return json(200, { ok: true, token });
  });
  return { fetchMock, valid, refreshable, calls };
}

let server: ReturnType<typeof fakeServer>;
beforeEach(() => {
  server = fakeServer();
  vi.stubGlobal('fetch', server.fetchMock);
  setTokens({ accessToken: 'access-1', refreshToken: 'refresh-1', user }, 'signin');
});
afterEach(() => {
  vi.unstubAllGlobals();
  setTokens(null);
});

describe('api()', () => {
  it('sends the bearer token under /api with query and idempotency key', async () => {
    await expect(api('/wallet/u1/balance', { query: { limit: 5, cursor: undefined }, idempotencyKey: 'k1' })).resolves.toEqual({ ok: true, token: 'access-1' });
    expect(server.calls[0]).toEqual({ url: '/api/wallet/u1/balance?limit=5', auth: 'Bearer access-1', key: 'k1' });
  });

  it('on a 401 refreshes once (rotation), retries with the new token and tells every listener', async () => {
    server.valid.delete('access-1'); // expired
    const heard: string[] = [];
    const stop = onTokens((t, reason) => heard.push(`${reason}:${t?.accessToken}`));
    await expect(api('/thing')).resolves.toEqual({ ok: true, token: 'access-2' });
    stop();
    expect(heard).toEqual(['refresh:access-2']);
    expect(getTokens()?.refreshToken).toBe('refresh-2');
    expect(JSON.parse(localStorage.getItem('softchat.session')!).accessToken).toBe('access-2');
  });

  it('concurrent 401s share one refresh (a refresh token works only once)', async () => {
    server.valid.delete('access-1');
    const results = await Promise.all([api('/a'), api('/b'), api('/c')]);
    expect(results.map((r) => (r as { token: string }).token)).toEqual(['access-2', 'access-2', 'access-2']);
    expect(server.calls.filter((c) => c.url === '/api/auth/refresh')).toHaveLength(1);
  });

  it('a revoked session ends: tokens cleared with reason "revoked" and the call fails with 401', async () => {
    server.valid.delete('access-1');
    server.refreshable.clear();
    const heard: string[] = [];
    const stop = onTokens((_t, reason) => heard.push(reason));
    const err = (await api('/thing').catch((e) => e)) as ApiError;
    stop();
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(heard).toEqual(['revoked']);
    expect(getTokens()).toBeNull();
    expect(localStorage.getItem('softchat.session')).toBeNull();
  });

  it('other refusals keep their status, code and message', async () => {
    const err = (await api('/bad').catch((e) => e)) as ApiError;
    expect([err.status, err.code, err.message]).toEqual([422, 'INSUFFICIENT_FUNDS', 'Not enough USD']);
  });
});
