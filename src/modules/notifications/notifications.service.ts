import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuthUser, isAdmin } from '../../core/auth/auth-user';
import { badRequest, notFound } from '../../core/http/domain-error';
import { JobsService } from '../../core/queue/jobs.service';
import { Announcer } from '../../core/realtime/announce';
import { DEFAULT_LIMIT, decodeKindCursor, kindCursor, toPage } from '../../core/http/pagination';
import { iso, rows } from '../../core/database/sql';
import { NotifyInput, checkNotifyInput, chunk } from './notification.rules';
import { NotificationAdded } from './notifications.events';

export interface NotificationView {
  id: string;
  userId: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  read: boolean;
  readAt: string | null;
  createdAt: string;
}

export interface NotificationPage {
  items: NotificationView[];
  nextCursor: string | null;
  unreadCount: number;
}

export type DispatchTarget = { userIds: string[]; broadcast?: false } | { broadcast: true; userIds?: undefined };

export interface DispatchReceipt {
  dispatchId: string;
  status: 'queued';
  broadcast: boolean;
  /** Recipients for a user list; null for a broadcast (every user, counted when it runs). */
  recipients: number | null;
}

/** Job payloads (notifications queue). */
export interface DispatchJobData {
  dispatchId: string;
  target: { userIds?: string[]; broadcast?: boolean };
  input: Required<NotifyInput>;
  dedupeKey: string;
}
export interface DeliverJobData {
  dispatchId: string;
  input: Required<NotifyInput>;
  dedupeKey: string;
  /** Either an explicit list... */
  userIds?: string[];
  /** ...or a range of user ids (after, until], for broadcasts. */
  after?: string;
  until?: string;
}

interface NotificationRow {
  id: string;
  user_id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  read_at: Date | null;
  created_at: Date;
  cursor_at?: string;
}

const COLUMNS = `id, user_id, type, title, body, data, read_at, created_at`;

function toView(r: NotificationRow): NotificationView {
  return {
    id: r.id,
    userId: r.user_id,
    type: r.type,
    title: r.title,
    body: r.body,
    data: r.data ?? {},
    read: r.read_at !== null,
    readAt: iso(r.read_at),
    createdAt: iso(r.created_at)!,
  };
}

/**
 * The in-app inbox. Other modules call `notify()` (stored now, pushed to the user's sockets
 * and GraphQL subscription after commit) or `dispatch()` (fanned out by a BullMQ job in
 * batches, for large audiences). A `dedupeKey` makes either idempotent per user: an event
 * delivered twice (a retried job, a replayed webhook) notifies once.
 */
@Injectable()
export class NotificationsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly jobs: JobsService,
    private readonly announcer: Announcer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Recipients per delivery batch (NOTIFICATIONS_BATCH_SIZE). */
  get batchSize(): number {
    return this.config.messaging.notifications.batchSize;
  }

  /**
   * Notifies one or more users now. Returns the notifications created (users that already
   * hold `dedupeKey`, or that do not exist, are skipped).
   *
   *   await notifications.notify(order.userId, { type: 'order', title: 'Order filled', body: '...', data: { orderId } },
   *     { dedupeKey: `order-filled:${order.id}` });
   */
  async notify(userIds: string | string[], input: NotifyInput, opts: { dedupeKey?: string } = {}): Promise<NotificationView[]> {
    const clean = checkNotifyInput(input);
    const dedupeKey = this.checkDedupeKey(opts.dedupeKey);
    const ids = [...new Set(Array.isArray(userIds) ? userIds : [userIds])];
    const out: NotificationView[] = [];
    for (const batch of chunk(ids, this.batchSize)) out.push(...(await this.deliver({ userIds: batch }, clean, dedupeKey)));
    return out;
  }

  /**
   * Queues a notification for a list of users or for everyone; returns at once. A BullMQ job
   * splits the audience into batches of NOTIFICATIONS_BATCH_SIZE, each its own job.
   */
  async dispatch(target: DispatchTarget, input: NotifyInput, opts: { dedupeKey?: string } = {}): Promise<DispatchReceipt> {
    const clean = checkNotifyInput(input);
    const dispatchId = randomUUID();
    const dedupeKey = this.checkDedupeKey(opts.dedupeKey) ?? `dispatch:${dispatchId}`;
    let userIds: string[] | undefined;
    if (target.broadcast !== true) {
      userIds = [...new Set(target.userIds ?? [])];
      if (!userIds.length) throw badRequest(['userIds must name at least one user, or set broadcast: true']);
      const known = await rows<{ id: string }>(this.ds, `SELECT id FROM users WHERE id = ANY($1::uuid[])`, [userIds]);
      if (known.length !== userIds.length) {
        const found = new Set(known.map((k) => k.id));
        const unknown = userIds.filter((id) => !found.has(id));
        throw badRequest([`userIds contains unknown users: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}`]);
      }
    }
    const data: DispatchJobData = { dispatchId, target: userIds ? { userIds } : { broadcast: true }, input: clean, dedupeKey };
    await this.jobs.add('notifications', 'dispatch', data, { jobId: dispatchId });
    return { dispatchId, status: 'queued', broadcast: !userIds, recipients: userIds ? userIds.length : null };
  }

  /** Stores one batch (skipping duplicates) and announces what was stored, after commit. */
  async deliver(
    who: { userIds: string[] } | { after: string; until: string },
    input: Required<NotifyInput>,
    dedupeKey: string | null,
  ): Promise<NotificationView[]> {
    const [filter, params] =
      'userIds' in who ? [`u.id = ANY($1::uuid[])`, [who.userIds]] : [`u.id > $1::uuid AND u.id <= $7::uuid`, [who.after]];
    const created = await rows<NotificationRow>(
      this.ds,
      `INSERT INTO notifications (user_id, type, title, body, data, dedupe_key)
       SELECT u.id, $2, $3, $4, $5::jsonb, $6 FROM users u WHERE ${filter}
       ON CONFLICT (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
       RETURNING ${COLUMNS}`,
      [...params, input.type, input.title, input.body, JSON.stringify(input.data), dedupeKey, ...('until' in who ? [who.until] : [])],
    );
    const views = created.map(toView);
    for (const n of views) this.announce(n);
    return views;
  }

  private announce(n: NotificationView) {
    void this.announcer.announce(NotificationAdded, n, { user: n.userId });
  }

  private checkDedupeKey(key: string | undefined): string | null {
    if (key === undefined) return null;
    if (typeof key !== 'string' || !key || key.length > 200) throw badRequest(['dedupeKey must be 1 to 200 characters']);
    return key;
  }

  /** Newest first, cursor paged, with the unread count. */
  async list(userId: string, opts: { unreadOnly?: boolean; limit?: number; cursor?: string }): Promise<NotificationPage> {
    const limit = opts.limit ?? DEFAULT_LIMIT;
    const params: unknown[] = [userId, limit + 1];
    let where = `user_id = $1`;
    if (opts.unreadOnly) where += ` AND read_at IS NULL`;
    if (opts.cursor) {
      const [at, id] = decodeKindCursor(opts.cursor, 'notif', ['timestamp', 'uuid']);
      where += ` AND (created_at, id) < ($3::timestamptz, $4::uuid)`;
      params.push(at, id);
    }
    const [found, unreadCount] = await Promise.all([
      rows<NotificationRow>(
        this.ds,
        `SELECT ${COLUMNS}, created_at::text AS cursor_at FROM notifications WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $2`,
        params,
      ).catch((e) => {
        if (['22007', '22008', '22P02'].includes((e as { code?: string }).code ?? '')) {
          throw badRequest(['cursor is invalid or expired; pass back the nextCursor of a previous page']);
        }
        throw e;
      }),
      this.unreadCount(userId),
    ]);
    return { ...toPage(found, limit, toView, (r) => kindCursor('notif', [r.cursor_at!, r.id])), unreadCount };
  }

  async unreadCount(userId: string): Promise<number> {
    const [r] = await rows<{ n: number }>(this.ds, `SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL`, [userId]);
    return r.n;
  }

  /**
   * Marks one notification read (idempotent). Someone else's notification is a 404, as if it
   * did not exist; admins may mark anyone's.
   */
  async markRead(actor: AuthUser, notificationId: string): Promise<{ notification: NotificationView; unreadCount: number }> {
    const found = await rows<NotificationRow>(
      this.ds,
      `UPDATE notifications SET read_at = COALESCE(read_at, now())
       WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2::uuid)
       RETURNING ${COLUMNS}`,
      [notificationId, isAdmin(actor) ? null : actor.id],
    );
    if (!found.length) throw notFound('Notification not found');
    const notification = toView(found[0]);
    return { notification, unreadCount: await this.unreadCount(notification.userId) };
  }

  async markAllRead(userId: string): Promise<{ userId: string; updated: number; unreadCount: number }> {
    const [r] = await rows<{ n: number }>(
      this.ds,
      `WITH u AS (UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL RETURNING 1) SELECT count(*)::int AS n FROM u`,
      [userId],
    );
    return { userId, updated: r.n, unreadCount: 0 };
  }
}
