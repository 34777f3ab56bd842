import { Module } from '@nestjs/common';
import { PresenceModule } from '../presence/presence.module';
import { ChatController } from './chat.controller';
import { ChatGateway } from './chat.gateway';
import { ChatResolver } from './chat.resolver';
import { ChatService } from './chat.service';
import { ChatRepository } from './chat.repository';
import { ChatRooms } from './chat.rooms';
import { ChatMessages } from './chat.messages';
import { ChatPresenceRelay } from './presence-relay.service';
import { TypingService } from './typing.service';

@Module({
  imports: [PresenceModule],
  controllers: [ChatController],
  providers: [ChatService, ChatRepository, ChatRooms, ChatMessages, TypingService, ChatGateway, ChatResolver, ChatPresenceRelay],
  exports: [ChatService],
})
export class ChatModule {}
