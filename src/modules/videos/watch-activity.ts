import { Injectable, Logger } from '@nestjs/common';

export interface WatchCredited {
  videoId: string;
  creatorId: string;
}

/**
 * In-process signal, after commit, that verified watching was credited to a video (its views
 * and watch time changed). The creator module listens to refresh the creator's live stats.
 */
@Injectable()
export class WatchActivity {
  private readonly logger = new Logger('WatchActivity');
  private readonly listeners: ((e: WatchCredited) => unknown)[] = [];

  subscribe(fn: (e: WatchCredited) => unknown): void {
    this.listeners.push(fn);
  }

  emit(e: WatchCredited): void {
    for (const fn of this.listeners) {
      Promise.resolve()
        .then(() => fn(e))
        .catch((err) => this.logger.warn(`watch listener failed: ${(err as Error).message}`));
    }
  }
}
