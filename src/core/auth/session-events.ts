import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisService } from '../redis/redis.service';
import type { Role } from './roles';

/**
 * Something that changes rights held by long-lived connections (contract §2). A role change
 * carries the new roles and token version: connections that lose a role are closed, those
 * that only gain one take the new roles in place (no right outlives the change either way).
 */
export type SessionEvent =
  | { type: 'sessions-revoked'; sessionIds: string[]; reason: string }
  | { type: 'roles-changed'; userId: string; roles: Role[]; tokenVersion: number; reason: string };

/** What a connection authenticated with `held` roles and token version does on a role change. */
export function onRolesChanged(
  held: { roles: Role[]; tokenVersion: number },
  e: Extract<SessionEvent, { type: 'roles-changed' }>,
): 'ignore' | 'close' | 'refresh' {
  if (e.tokenVersion <= held.tokenVersion) return 'ignore';
  return held.roles.some((r) => !e.roles.includes(r)) ? 'close' : 'refresh';
}

type Listener = (e: SessionEvent) => void;

/**
 * Tells every instance that sessions were revoked or a user's roles changed, over one Redis
 * pub/sub channel. Each instance then ends its own Socket.IO sockets and graphql-ws connections
 * (local only: the message already reached every instance). Publishers write the revocation
 * to Redis first, so the per-operation checks agree with the message.
 */
@Injectable()
export class SessionEvents implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SessionEvents.name);
  private readonly listeners = new Set<Listener>();
  private readonly resetListeners = new Set<() => void>();
  private sub?: Redis;
  private readonly channel: string;
  private subscribed = false;

  constructor(private readonly redis: RedisService) {
    this.channel = redis.key('auth', 'session-events');
  }

  async onModuleInit() {
    this.sub = this.redis.create('session-events-sub');
    this.sub.on('message', (channel: string, raw: string) => {
      if (channel !== this.channel) return;
      let event: SessionEvent;
      try {
        event = JSON.parse(raw) as SessionEvent;
      } catch {
        return;
      }
      for (const l of this.listeners) {
        try {
          l(event);
        } catch (e) {
          this.logger.error({ err: e }, 'session event listener failed');
        }
      }
    });
    await this.sub.subscribe(this.channel);
    this.subscribed = true;
    // While the subscription is down, announcements are lost: whoever caches rights locally stops
    // trusting the cache, and starts afresh once the channel is confirmed subscribed again.
    const down = () => {
      if (!this.subscribed) return;
      this.subscribed = false;
      this.notifyReset();
    };
    this.sub.on('close', down);
    this.sub.on('reconnecting', down);
    this.sub.on('ready', () => {
      if (this.subscribed) return;
      // ioredis re-subscribes on reconnect; this SUBSCRIBE's reply comes after that one's, so
      // once it resolves every later announcement reaches us.
      this.sub!.subscribe(this.channel).then(
        () => {
          this.subscribed = true;
          this.notifyReset();
        },
        (e: Error) => this.logger.warn(`session-events resubscribe failed: ${e.message}`),
      );
    });
  }

  /** True while announcements reach this instance (the channel is subscribed). */
  get listening(): boolean {
    return this.subscribed;
  }

  /** Called when announcements may have been missed (the channel went down, or came back). */
  onReset(listener: () => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  private notifyReset() {
    for (const l of this.resetListeners) {
      try {
        l();
      } catch (e) {
        this.logger.error({ err: e }, 'session event reset listener failed');
      }
    }
  }

  onApplicationShutdown() {
    this.subscribed = false;
    this.listeners.clear();
    this.resetListeners.clear();
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(event: SessionEvent): Promise<void> {
    await this.redis.client.publish(this.channel, JSON.stringify(event));
  }
}
