import { Global, Module } from '@nestjs/common';
import { LedgerService } from './ledger.service';
import { LedgerEvents } from './ledger.events';

/** Global: every feature that moves money calls LedgerService. */
@Global()
@Module({ providers: [LedgerService, LedgerEvents], exports: [LedgerService, LedgerEvents] })
export class LedgerModule {}
