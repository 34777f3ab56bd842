import { Global, Module } from '@nestjs/common';
import { OutboxService } from './outbox.service';

/** The transactional outbox, for any module: `OutboxService.add(tx, {kind, payload, dedupeKey})` and `register(kind, handler)`. */
@Global()
@Module({ providers: [OutboxService], exports: [OutboxService] })
export class OutboxModule {}
