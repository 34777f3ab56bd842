import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Job, JobsOptions, Queue, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../config/config';
import { RedisService } from '../redis/redis.service';
import { JobName, QUEUE_CATALOGUE, QUEUE_SETTINGS, QueueName } from './catalogue';
import { JOB_HANDLER, JobHandlerMeta } from './job-handler.decorator';

type Handler = (job: Job) => Promise<unknown>;

/**
 * Owns the BullMQ queues and workers. Handlers are discovered from @JobHandler methods and
 * checked against the catalogue at boot, so a job that nobody handles (or that two places
 * handle) stops the start instead of piling up silently.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];
  private readonly handlers = new Map<string, Handler>();
  private readonly connection: Redis;
  readonly prefix: string;

  constructor(
    redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {
    this.connection = redis.create('bullmq', { maxRetriesPerRequest: null });
    this.prefix = `${config.redis.prefix}:bull`;
    for (const name of Object.keys(QUEUE_CATALOGUE) as QueueName[]) {
      this.queues.set(
        name,
        new Queue(name, {
          connection: this.connection,
          prefix: this.prefix,
          defaultJobOptions: {
            attempts: 5,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: { age: 24 * 3600, count: 10_000 },
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        }),
      );
    }
  }

  queue(name: QueueName): Queue {
    return this.queues.get(name)!;
  }

  allQueues(): Queue[] {
    return [...this.queues.values()];
  }

  add<Q extends QueueName>(queue: Q, name: JobName<Q>, data: object, opts?: JobsOptions): Promise<Job> {
    return this.queue(queue).add(name, data, opts);
  }

  onApplicationBootstrap() {
    this.discoverHandlers();
    this.checkCatalogue();
    if (this.config.queuesEnabled) this.startWorkers();
  }

  private discoverHandlers() {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isNotMetatype === undefined) continue;
      const proto = Object.getPrototypeOf(instance);
      if (!proto) continue;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const meta = this.reflector.get<JobHandlerMeta | undefined>(JOB_HANDLER, proto[method]);
        if (!meta) continue;
        const key = `${meta.queue}/${meta.name}`;
        if (this.handlers.has(key)) throw new Error(`Job ${key} has more than one @JobHandler`);
        this.handlers.set(key, (job: Job) => (instance[method] as Handler).call(instance, job));
      }
    }
  }

  private checkCatalogue() {
    const problem = catalogueMismatch(QUEUE_CATALOGUE, [...this.handlers.keys()]);
    if (problem) throw new Error(problem);
  }

  private startWorkers() {
    for (const name of this.queues.keys()) {
      const worker = new Worker(
        name,
        async (job) => {
          const handler = this.handlers.get(`${name}/${job.name}`);
          if (!handler) throw new Error(`No handler for ${name}/${job.name}`);
          return handler(job);
        },
        {
          connection: this.connection,
          prefix: this.prefix,
          concurrency: QUEUE_SETTINGS[name]?.concurrency ?? 4,
        },
      );
      worker.on('failed', (job, err) =>
        this.logger.warn({ queue: name, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'Job failed'),
      );
      worker.on('error', (err) => this.logger.warn({ queue: name, err: err.message }, 'Worker error'));
      this.workers.push(worker);
    }
  }

  /** Stops taking jobs and waits for the running ones to finish (SIGTERM drain; idempotent). */
  async drainWorkers(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.close()));
  }

  async onApplicationShutdown() {
    await this.drainWorkers();
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}

/** Null when every catalogue job has a handler and every handler names a catalogue job. */
export function catalogueMismatch(catalogue: Record<string, readonly string[]>, handlerKeys: string[]): string | null {
  const expected = new Set<string>();
  for (const [queue, jobs] of Object.entries(catalogue)) for (const j of jobs) expected.add(`${queue}/${j}`);
  const have = new Set(handlerKeys);
  const missing = [...expected].filter((k) => !have.has(k));
  const unknown = handlerKeys.filter((k) => !expected.has(k));
  if (!missing.length && !unknown.length) return null;
  const parts: string[] = [];
  if (missing.length) parts.push(`no handler for ${missing.join(', ')}`);
  if (unknown.length) parts.push(`handlers for jobs not in the catalogue: ${unknown.join(', ')}`);
  return `Job catalogue mismatch: ${parts.join('; ')}`;
}
