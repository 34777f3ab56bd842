import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { Announcer } from '../../core/realtime/announce';
import { PresenceChange, PresenceService } from '../presence/presence.service';
import { UserOffline, UserOnline } from '../presence/presence.events';
import { ChatService } from './chat.service';

/**
 * Presence knows who is online; chat knows who shares a room. This relay tells a user's
 * room-mates (and only them) when the user comes online, changes status or goes offline:
 * Socket.IO `user_online` / `user_offline` and GraphQL `presenceChanged`.
 */
@Injectable()
export class ChatPresenceRelay implements OnModuleInit {
  constructor(
    private readonly presence: PresenceService,
    private readonly chat: ChatService,
    private readonly announcer: Announcer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.presence.onChange((change) => this.relay(change));
  }

  async relay(change: PresenceChange): Promise<void> {
    const mates = await this.chat.roomMatesOf(change.userId, {
      maxRoomMembers: this.config.messaging.presence.roomFanoutMaxMembers,
      limit: this.config.messaging.presence.maxAudience,
    });
    if (!mates.length) return;
    const view = { userId: change.userId, status: change.status, lastSeenAt: change.lastSeenAt };
    await this.announcer.announce(change.status === 'offline' ? UserOffline : UserOnline, view, { users: mates });
  }
}
