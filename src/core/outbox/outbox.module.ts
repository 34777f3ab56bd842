import { Global, Module } from '@nestjs/common';
import { OutboxController } from './outbox.controller';
import { OutboxService } from './outbox.service';

/** The transactional outbox, for any module: `OutboxService.add(tx, {kind, payload, dedupeKey})` and `register(kind, handler)`;
 * admins list stuck entries and retry them (`/api/admin/outbox`). */
@Global()
@Module({ controllers: [OutboxController], providers: [OutboxService], exports: [OutboxService] })
export class OutboxModule {}
