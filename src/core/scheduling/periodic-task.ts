import type { Logger } from '@nestjs/common';

/**
 * A per-instance periodic job (heartbeats, sweeps): runs `work` every `everyMs`, never two
 * runs at once, never keeps the process alive, and `stop()` waits for a run in flight.
 * For work that must happen once across the cluster, use a BullMQ job scheduler instead.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.run(), this.everyMs);
    this.timer.unref();
  }

  /** Runs now unless a run is in flight (then waits for that one) or the task was stopped. */
  run(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = (async () => {
      try {
        await this.work();
      } catch (e) {
        this.logger.warn(`${this.name} failed: ${(e as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
