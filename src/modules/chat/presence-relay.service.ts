import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { PresenceChange, PresenceService } from '../presence/presence.service';
import { presenceTopic } from '../presence/presence.rules';
import { ChatService } from './chat.service';
import { envInt } from './common/env';

/**
 * Presence knows who is online; chat knows who shares a room. This relay tells a user's
 * room-mates (and only them) when the user comes online, changes status or goes offline:
 * Socket.IO `user_online` / `user_offline` and GraphQL `presenceChanged`.
 */
@Injectable()
export class ChatPresenceRelay implements OnModuleInit {
  private readonly logger = new Logger('Presence');

  constructor(
    private readonly presence: PresenceService,
    private readonly chat: ChatService,
    private readonly publisher: RealtimePublisher,
    private readonly pubsub: GqlPubSub,
  ) {}

  onModuleInit() {
    this.presence.onChange((change) => this.relay(change));
  }

  /** Presence is pushed only through rooms up to this size; larger rooms read it on demand. */
  readonly maxRoomMembers = envInt('PRESENCE_ROOM_FANOUT_MAX_MEMBERS', 1000, 2, 1_000_000);
  /** At most this many recipients per announcement. */
  readonly maxAudience = envInt('PRESENCE_MAX_AUDIENCE', 5000, 1, 1_000_000);

  async relay(change: PresenceChange): Promise<void> {
    const mates = await this.chat.roomMatesOf(change.userId, { maxRoomMembers: this.maxRoomMembers, limit: this.maxAudience });
    if (!mates.length) return;
    if (change.status === 'offline') {
      this.publisher.toUser(mates, 'user_offline', { userId: change.userId, lastSeenAt: change.lastSeenAt ?? new Date().toISOString() });
    } else {
      this.publisher.toUser(mates, 'user_online', { userId: change.userId, status: change.status });
    }
    const payload = { presenceChanged: { userId: change.userId, status: change.status, lastSeenAt: change.lastSeenAt } };
    await Promise.all(mates.map((id) => this.pubsub.publish(presenceTopic(id), payload))).catch((e) =>
      this.logger.warn(`presenceChanged publish failed: ${(e as Error).message}`),
    );
  }
}
