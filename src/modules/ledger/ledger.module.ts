import { Global, Module } from '@nestjs/common';
import { LedgerService } from './ledger.service';
import { LedgerEvents } from './ledger.events';
import { LedgerRepository } from './ledger.repository';

/** Global: every feature that moves money calls LedgerService (the repository stays private to it). */
@Global()
@Module({ providers: [LedgerService, LedgerRepository, LedgerEvents], exports: [LedgerService, LedgerEvents] })
export class LedgerModule {}
