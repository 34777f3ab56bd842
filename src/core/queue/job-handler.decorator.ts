import { SetMetadata } from '@nestjs/common';
import type { JobName, QueueName } from './catalogue';

export const JOB_HANDLER = 'softchat:jobHandler';

export interface JobHandlerMeta {
  queue: QueueName;
  name: string;
}

/** Marks a provider method as the one handler of a catalogue job. */
export const JobHandler = <Q extends QueueName>(queue: Q, name: JobName<Q>) =>
  SetMetadata(JOB_HANDLER, { queue, name } satisfies JobHandlerMeta);
