import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import { DataSource } from 'typeorm';
import { JobHandler } from '../../core/queue/job-handler.decorator';
import { JobsService } from '../../core/queue/jobs.service';
import { rows } from '../../core/database/sql';
import { chunk } from './notification.rules';
import { DeliverJobData, DispatchJobData, NotificationsService } from './notifications.service';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Fan-out of queued notifications. `dispatch` cuts the audience into batches, each a
 * `deliver` job with a deterministic id; `deliver` stores one batch with the dispatch's
 * dedupe key, so a retried job (or a batch enqueued twice) notifies nobody twice.
 *
 * Broadcast batches are ranges of user ids (after, until]. The dispatch job records how far
 * it got in its progress and, on a retry, resumes there and follows batches that already
 * exist, so no range is skipped or cut differently.
 */
@Injectable()
export class NotificationJobs {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly jobs: JobsService,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  @JobHandler('notifications', 'dispatch')
  async dispatch(job: Job<DispatchJobData>) {
    const { dispatchId, target, input, dedupeKey } = job.data;
    const size = this.notifications.batchSize;
    if (target.userIds) {
      const batches = chunk(target.userIds, size).map((userIds, i) => ({
        name: 'deliver' as const,
        data: { dispatchId, input, dedupeKey, userIds } satisfies DeliverJobData,
        opts: { jobId: `${dispatchId}_${i}` },
      }));
      for (const group of chunk(batches, 100)) await this.jobs.queue('notifications').addBulk(group);
      return { batches: batches.length };
    }

    const progress = job.progress as { after?: string; batches?: number } | number;
    let after = typeof progress === 'object' && progress?.after ? progress.after : ZERO_UUID;
    let batches = typeof progress === 'object' && progress?.batches ? progress.batches : 0;
    for (;;) {
      const jobId = `${dispatchId}_${after}`;
      const existing = await this.jobs.queue('notifications').getJob(jobId);
      let until: string | undefined = (existing?.data as DeliverJobData | undefined)?.until;
      if (!until) {
        const page = await rows<{ id: string }>(this.ds, `SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT $2`, [after, size]);
        if (!page.length) break;
        until = page[page.length - 1].id;
        const data: DeliverJobData = { dispatchId, input, dedupeKey, after, until };
        await this.jobs.add('notifications', 'deliver', data, { jobId });
        batches += 1;
      }
      after = until;
      await job.updateProgress({ after, batches });
    }
    return { batches };
  }

  @JobHandler('notifications', 'deliver')
  async deliver(job: Job<DeliverJobData>) {
    const { input, dedupeKey, userIds, after, until } = job.data;
    const created = userIds
      ? await this.notifications.deliver({ userIds }, input, dedupeKey)
      : await this.notifications.deliver({ after: after!, until: until! }, input, dedupeKey);
    return { delivered: created.length };
  }
}
