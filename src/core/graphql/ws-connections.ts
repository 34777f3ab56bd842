import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { SessionEvent, SessionEvents, onRolesChanged } from '../auth/session-events';
import type { AccessTokenPayload, AuthUser } from '../auth/auth-user';

/** What one graphql-ws connection holds once its `connection_init` was accepted. */
export interface WsConnection {
  socket: WebSocket;
  user: AuthUser;
  claims: AccessTokenPayload;
  ip: string;
}

/** graphql-ws close codes (the protocol's own; contract §2). */
export const WS_UNAUTHORIZED = 4401;
export const WS_GOING_AWAY = 1001;

/** setTimeout takes at most 2^31-1 ms; a later deadline is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * This instance's authenticated graphql-ws connections, indexed by session and user, so a
 * revocation or the loss of a role (announced to every instance by SessionEvents) closes exactly
 * theirs with 4401, and each connection closes by itself when its access token expires.
 */
@Injectable()
export class WsConnections implements OnModuleInit, OnModuleDestroy {
  private readonly bySession = new Map<string, Set<WsConnection>>();
  private readonly byUser = new Map<string, Set<WsConnection>>();
  private readonly timers = new Map<WsConnection, NodeJS.Timeout>();
  private unsubscribe?: () => void;

  constructor(private readonly events: SessionEvents) {}

  onModuleInit() {
    this.unsubscribe = this.events.on((e) => this.onSessionEvent(e));
  }

  onModuleDestroy() {
    this.unsubscribe?.();
  }

  add(conn: WsConnection): void {
    index(this.bySession, conn.user.sessionId, conn);
    index(this.byUser, conn.user.id, conn);
    this.scheduleExpiry(conn);
    conn.socket.once('close', () => this.remove(conn));
  }

  /** Closes every connection of this instance (shutdown: clients reconnect to another one). */
  closeAll(code: number, reason: string): void {
    for (const conn of [...this.timers.keys()]) close(conn, code, reason);
  }

  private remove(conn: WsConnection) {
    clearTimeout(this.timers.get(conn));
    this.timers.delete(conn);
    unindex(this.bySession, conn.user.sessionId, conn);
    unindex(this.byUser, conn.user.id, conn);
  }

  private scheduleExpiry(conn: WsConnection) {
    const at = conn.claims.exp * 1000;
    const wait = at - Date.now();
    if (wait <= 0) {
      close(conn, WS_UNAUTHORIZED, 'Access token expired');
      return;
    }
    const timer = setTimeout(() => this.scheduleExpiry(conn), Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    this.timers.set(conn, timer);
  }

  private onSessionEvent(e: SessionEvent) {
    if (e.type === 'sessions-revoked') {
      for (const conn of e.sessionIds.flatMap((sid) => [...(this.bySession.get(sid) ?? [])])) close(conn, WS_UNAUTHORIZED, e.reason);
      return;
    }
    for (const conn of [...(this.byUser.get(e.userId) ?? [])]) {
      const action = onRolesChanged({ roles: conn.user.roles, tokenVersion: conn.claims.tv ?? 0 }, e);
      if (action === 'close') close(conn, WS_UNAUTHORIZED, e.reason);
      if (action === 'refresh') {
        // Only gained roles: the connection goes on with them; the per-operation check now
        // accepts its (re-stamped) claims at the new version.
        conn.user = { ...conn.user, roles: e.roles };
        conn.claims = { ...conn.claims, roles: e.roles, tv: e.tokenVersion };
      }
    }
  }
}

function close(conn: WsConnection, code: number, reason: string) {
  // A close reason is at most 123 bytes.
  conn.socket.close(code, reason.slice(0, 120));
}

function index(map: Map<string, Set<WsConnection>>, key: string, conn: WsConnection) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(conn);
}

function unindex(map: Map<string, Set<WsConnection>>, key: string, conn: WsConnection) {
  const set = map.get(key);
  if (!set) return;
  set.delete(conn);
  if (!set.size) map.delete(key);
}
