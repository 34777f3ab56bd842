import { Module } from '@nestjs/common';
import { PresenceController } from './presence.controller';
import { PresenceGateway } from './presence.gateway';
import { PresenceResolver } from './presence.resolver';
import { PresenceService } from './presence.service';

/**
 * Who is online, shared by all instances through Redis. It knows nothing about rooms: the
 * chat module listens to `PresenceService.onChange` and tells the users who share a room.
 */
@Module({
  controllers: [PresenceController],
  providers: [PresenceService, PresenceGateway, PresenceResolver],
  exports: [PresenceService],
})
export class PresenceModule {}
