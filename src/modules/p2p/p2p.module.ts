import { Module } from '@nestjs/common';
import { IdempotencyInterceptor } from '../../core/http/idempotency';
import { ChatModule } from '../chat/chat.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { AdminP2PController, P2PController } from './p2p.controller';
import { P2PResolver } from './p2p.resolver';
import { OffersService } from './offers.service';
import { EscrowService } from './escrow.service';
import { P2PAnnouncer } from './p2p.announcer';
import { P2PJobs } from './p2p.jobs';
import { EscrowsRepository } from './escrows.repository';
import { EscrowMoney } from './escrow.money';
import { EscrowTransitions } from './escrow.transitions';
import { EscrowCreation } from './escrow.creation';
import { EscrowDisputes } from './escrow.disputes';
import { EscrowChatRoom } from './escrow.chat-room';
import { EscrowWindows } from './escrow.windows';

/**
 * P2P escrow: offers with reputation, escrows as ledger holds, payment and release windows as
 * BullMQ delayed jobs (with a database sweep at start), disputes sealed at opening and resolved
 * by admins, a private chat room per trade, and live updates (`escrow_update`, `escrowUpdated`).
 */
@Module({
  imports: [ChatModule, NotificationsModule],
  controllers: [P2PController, AdminP2PController],
  providers: [
    OffersService,
    EscrowService,
    EscrowsRepository,
    EscrowMoney,
    EscrowTransitions,
    EscrowCreation,
    EscrowDisputes,
    EscrowChatRoom,
    EscrowWindows,
    P2PAnnouncer,
    P2PJobs,
    P2PResolver,
    IdempotencyInterceptor,
  ],
  exports: [EscrowService, OffersService],
})
export class P2PModule {}
