import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PresenceModule } from '../presence/presence.module';
import { ChatController } from './chat.controller';
import { ChatGateway } from './chat.gateway';
import { ChatResolver } from './chat.resolver';
import { ChatService } from './chat.service';
import { ChatPresenceRelay } from './presence-relay.service';
import { TypingService } from './typing.service';
import { ChatMessageEntity } from './entities/chat-message.entity';
import { ChatRoomEntity } from './entities/chat-room.entity';
import { ChatRoomMemberEntity } from './entities/chat-room-member.entity';

@Module({
  imports: [PresenceModule, TypeOrmModule.forFeature([ChatRoomEntity, ChatRoomMemberEntity, ChatMessageEntity])],
  controllers: [ChatController],
  providers: [ChatService, TypingService, ChatGateway, ChatResolver, ChatPresenceRelay],
  exports: [ChatService],
})
export class ChatModule {}
