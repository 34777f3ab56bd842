import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

const logger = new Logger('Transaction');

/**
 * A database transaction plus the work to do once it has committed ("write, commit, then
 * announce"). Services that move money or change shared state take a `Tx` so that a caller
 * can make several of them commit together, and events are only published after commit.
 */
export class Tx implements Executor {
  private readonly hooks: (() => unknown)[] = [];
  constructor(readonly manager: EntityManager) {}

  /** Runs after COMMIT (never after a rollback). Errors are logged, not thrown. */
  afterCommit(fn: () => unknown): void {
    this.hooks.push(fn);
  }

  query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.manager.query(sql, params);
  }

  /** Rows and affected-row count (for UPDATE ... RETURNING and guarded updates). */
  async run<T = any>(sql: string, params: unknown[] = []): Promise<{ rows: T[]; affected: number }> {
    const res = await this.manager.queryRunner!.query(sql, params, true);
    return { rows: (res.records ?? []) as T[], affected: res.affected ?? (res.records?.length ?? 0) };
  }

  /** @internal */
  async flush(): Promise<void> {
    for (const h of this.hooks.splice(0)) {
      try {
        await h();
      } catch (e) {
        logger.error({ err: e }, 'after-commit hook failed');
      }
    }
  }
}

/** What a single-statement operation needs: a query function and after-commit hooks. */
export interface Executor {
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  afterCommit(fn: () => unknown): void;
}

/**
 * For work that is one atomic statement: runs in autocommit mode (no BEGIN/COMMIT round
 * trips), and the hooks run once `flush()` is called after the statement.
 */
export class AutoCommit implements Executor {
  private readonly hooks: (() => unknown)[] = [];
  constructor(private readonly ds: DataSource) {}
  query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.ds.query(sql, params);
  }
  afterCommit(fn: () => unknown): void {
    this.hooks.push(fn);
  }
  async flush(): Promise<void> {
    for (const h of this.hooks.splice(0)) {
      try {
        await h();
      } catch (e) {
        logger.error({ err: e }, 'after-commit hook failed');
      }
    }
  }
}

/** Postgres SQLSTATE of an error from pg or TypeORM. */
export function pgCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; driverError?: { code?: unknown } };
  const c = err?.driverError?.code ?? err?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Runs `fn` in a READ COMMITTED transaction; after commit, runs the hooks it registered. */
export async function withTransaction<T>(ds: DataSource, fn: (tx: Tx) => Promise<T>): Promise<T> {
  let tx!: Tx;
  const result = await ds.transaction(async (manager) => {
    tx = new Tx(manager);
    return fn(tx);
  });
  await tx.flush();
  return result;
}

/** Joins the caller's transaction when one is given, or opens a new one. */
export function inTransaction<T>(ds: DataSource, tx: Tx | null | undefined, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return tx ? fn(tx) : withTransaction(ds, fn);
}
