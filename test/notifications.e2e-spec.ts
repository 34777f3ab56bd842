import { Client } from 'pg';
import { QueueEvents } from 'bullmq';
import { startTestApp, TestApp } from './harness/app';
import { dbUrl } from './harness/env';
import {
  closeClients,
  collect,
  connectSocket,
  emitAck,
  eventually,
  gql,
  gqlWs,
  http,
  loginAdmin,
  nextEvent,
  registerUser,
  subscribe,
  TestUser,
  waitForGqlSubscriber,
} from './harness/clients';
import { NotificationsService } from '../src/modules/notifications/notifications.service';
import { JobsService } from '../src/core/queue/jobs.service';

/**
 * The in-app inbox: NotificationsService for other modules, live delivery to every device
 * (Socket.IO and GraphQL), list / read / read-all, admin sends fanned out by BullMQ in batches.
 */
describe('notifications', () => {
  let t: TestApp;
  let pg: Client;
  let admin: TestUser;
  let events: QueueEvents;
  beforeAll(async () => {
    t = await startTestApp();
    pg = new Client({ connectionString: dbUrl(t.dbName) });
    await pg.connect();
    admin = await loginAdmin(t);
    events = new QueueEvents('notifications', { connection: { url: t.config.redis.url! } as never, prefix: t.app.get(JobsService).prefix });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await closeClients();
    await events.close();
    await pg.end();
    await t.close();
  });

  const bearer = (u: TestUser) => `Bearer ${u.token}`;
  const service = () => t.app.get(NotificationsService);
  const inbox = async (u: TestUser, query = '') =>
    (await http(t).get(`/api/notifications/${u.id}${query}`).set('authorization', bearer(u)).expect(200)).body;
  const countFor = async (userId: string, type: string) =>
    Number((await pg.query('SELECT count(*) FROM notifications WHERE user_id = $1 AND type = $2', [userId, type])).rows[0].count);

  it('NotificationsService.notify stores and pushes to every device of the user (Socket.IO and GraphQL), and nobody else', async () => {
    const u = await registerUser(t);
    const other = await registerUser(t);
    const phone = await connectSocket(t, u.token);
    const laptop = await connectSocket(t, u.token);
    const otherSocket = await connectSocket(t, other.token);
    const leak = collect(otherSocket, 'new_notification');
    const sub = subscribe(gqlWs(t, u.token), 'subscription { notificationAdded { id userId type title body data read createdAt } }');
    await waitForGqlSubscriber(t, `notifications:${u.id}`);

    const onPhone = nextEvent(phone, 'new_notification');
    const onLaptop = nextEvent(laptop, 'new_notification');
    const [created] = await service().notify(
      u.id,
      { type: 'order', title: 'Order filled', body: 'Your BTC-USD buy order was filled', data: { orderId: 'o-1', price: '65000.00' } },
      { dedupeKey: 'order-filled:o-1' },
    );
    const expected = {
      id: created.id,
      userId: u.id,
      type: 'order',
      title: 'Order filled',
      body: 'Your BTC-USD buy order was filled',
      data: { orderId: 'o-1', price: '65000.00' },
      read: false,
      readAt: null,
      createdAt: expect.any(String),
    };
    expect(await onPhone).toEqual({ notification: expected });
    expect(await onLaptop).toEqual({ notification: expected });
    const { readAt: _r, ...gqlExpected } = expected;
    expect(((await sub.next()) as any).data.notificationAdded).toEqual(gqlExpected);

    // The same event again (a retried job, a replayed webhook): nothing new.
    expect(await service().notify(u.id, { type: 'order', title: 'Order filled', body: 'again' }, { dedupeKey: 'order-filled:o-1' })).toEqual([]);
    expect(await countFor(u.id, 'order')).toBe(1);
    await emitAck(otherSocket, 'whoami', {});
    expect(leak.items).toEqual([]);

    // Bad input from a calling module is a 400-style DomainError, not a database error.
    await expect(service().notify(u.id, { type: 'Bad Type', title: '', body: '' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('lists newest first with unreadCount, pages without overlap, filters unread; only the owner or an admin may read', async () => {
    const u = await registerUser(t);
    const stranger = await registerUser(t);
    for (let i = 1; i <= 7; i++) await service().notify(u.id, { type: 'system', title: `n${i}`, body: `body ${i}` });
    const first = await inbox(u, '?limit=3');
    expect(first.items.map((n: { title: string }) => n.title)).toEqual(['n7', 'n6', 'n5']);
    expect(first.unreadCount).toBe(7);
    expect(first.items[0]).toEqual({
      id: expect.any(String),
      userId: u.id,
      type: 'system',
      title: 'n7',
      body: 'body 7',
      data: {},
      read: false,
      readAt: null,
      createdAt: expect.any(String),
    });
    const titles = [...first.items.map((n: { title: string }) => n.title)];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await inbox(u, `?limit=3&cursor=${cursor}`);
      titles.push(...page.items.map((n: { title: string }) => n.title));
      cursor = page.nextCursor;
    }
    expect(titles).toEqual(['n7', 'n6', 'n5', 'n4', 'n3', 'n2', 'n1']);

    await http(t).get(`/api/notifications/${u.id}`).set('authorization', bearer(stranger)).expect(403);
    await http(t).get(`/api/notifications/${u.id}`).expect(401);
    const asAdmin = await http(t).get(`/api/notifications/${u.id}?limit=1`).set('authorization', bearer(admin)).expect(200);
    expect(asAdmin.body.unreadCount).toBe(7);
    await http(t).get(`/api/notifications/${u.id}?limit=201`).set('authorization', bearer(u)).expect(400);
    await http(t).get(`/api/notifications/${u.id}?unreadOnly=maybe`).set('authorization', bearer(u)).expect(400);
    await http(t).get(`/api/notifications/${u.id}?cursor=${Buffer.from('[1,"notif","yesterday","x"]').toString('base64url')}`).set('authorization', bearer(u)).expect(400);
    // Authorization comes first: a stranger's path is a 403 whatever it holds; an admin gets the 400.
    await http(t).get(`/api/notifications/not-a-uuid`).set('authorization', bearer(u)).expect(403);
    await http(t).get(`/api/notifications/not-a-uuid`).set('authorization', bearer(admin)).expect(400);

    // Read one over REST, one over Socket.IO; unread-only shows the rest.
    const [n7, n6] = first.items;
    const read = await http(t).put(`/api/notifications/${n7.id}/read`).set('authorization', bearer(u)).expect(200);
    expect(read.body).toMatchObject({ id: n7.id, read: true, readAt: expect.any(String) });
    await http(t).put(`/api/notifications/${n7.id}/read`).set('authorization', bearer(u)).expect(200);
    await http(t).put(`/api/notifications/${n6.id}/read`).set('authorization', bearer(stranger)).expect(404);
    await http(t).put(`/api/notifications/00000000-0000-4000-8000-000000000000/read`).set('authorization', bearer(u)).expect(404);
    const s = await connectSocket(t, u.token);
    const ack = await emitAck(s, 'mark_notification_read', { notificationId: n6.id });
    expect(ack).toEqual({ ok: true, data: { notification: expect.objectContaining({ id: n6.id, read: true }), unreadCount: 5 } });
    expect((await emitAck(s, 'mark_notification_read', { notificationId: 'nope' })).error.code).toBe('BAD_REQUEST');
    const strangerSocket = await connectSocket(t, stranger.token);
    expect((await emitAck(strangerSocket, 'mark_notification_read', { notificationId: n6.id })).error.code).toBe('NOT_FOUND');

    const unread = await inbox(u, '?unreadOnly=true');
    expect(unread.items.map((n: { title: string }) => n.title)).toEqual(['n5', 'n4', 'n3', 'n2', 'n1']);
    expect(unread.unreadCount).toBe(5);

    await http(t).put(`/api/notifications/${u.id}/read-all`).set('authorization', bearer(stranger)).expect(403);
    const all = await http(t).put(`/api/notifications/${u.id}/read-all`).set('authorization', bearer(u)).expect(200);
    expect(all.body).toEqual({ userId: u.id, updated: 5, unreadCount: 0 });
    expect((await inbox(u)).unreadCount).toBe(0);
    expect((await inbox(u, '?unreadOnly=true')).items).toEqual([]);
  });

  it('admin send to users: 202 at once, delivered by the queue; only admins; bad input is a 400 naming fields', async () => {
    const [u1, u2, bystander] = await Promise.all([registerUser(t), registerUser(t), registerUser(t)]);
    const s1 = await connectSocket(t, u1.token);
    const s2 = await connectSocket(t, u2.token);
    const b = await connectSocket(t, bystander.token);
    const leak = collect(b, 'new_notification');
    const got1 = nextEvent(s1, 'new_notification');
    const got2 = nextEvent(s2, 'new_notification');
    const res = await http(t)
      .post('/api/notifications/send')
      .set('authorization', bearer(admin))
      .send({ userIds: [u1.id, u2.id], type: 'announcement', title: 'Maintenance', body: 'Tonight 2am UTC', data: { window: '2h' } })
      .expect(202);
    expect(res.body).toEqual({ dispatchId: expect.any(String), status: 'queued', broadcast: false, recipients: 2 });
    expect((await got1).notification).toMatchObject({ userId: u1.id, type: 'announcement', title: 'Maintenance', data: { window: '2h' } });
    expect((await got2).notification).toMatchObject({ userId: u2.id, title: 'Maintenance' });
    await emitAck(b, 'whoami', {});
    expect(leak.items).toEqual([]);

    await http(t).post('/api/notifications/send').set('authorization', bearer(u1)).send({ broadcast: true, type: 'system', title: 't', body: 'b' }).expect(403);
    const missing = await http(t).post('/api/notifications/send').set('authorization', bearer(admin)).send({ type: 'System!', body: 42 }).expect(400);
    const m = JSON.stringify(missing.body.message);
    expect(m).toMatch(/type/);
    expect(m).toMatch(/title/);
    expect(m).toMatch(/body/);
    const neither = await http(t).post('/api/notifications/send').set('authorization', bearer(admin)).send({ type: 'system', title: 't', body: 'b' }).expect(400);
    expect(JSON.stringify(neither.body.message)).toMatch(/userIds or broadcast/);
    await http(t)
      .post('/api/notifications/send')
      .set('authorization', bearer(admin))
      .send({ userIds: [u1.id], broadcast: true, type: 'system', title: 't', body: 'b' })
      .expect(400);
    const unknown = await http(t)
      .post('/api/notifications/send')
      .set('authorization', bearer(admin))
      .send({ userIds: ['00000000-0000-4000-8000-000000000000'], type: 'system', title: 't', body: 'b' })
      .expect(400);
    expect(JSON.stringify(unknown.body.message)).toMatch(/unknown users/);
  });

  it('a broadcast returns 202 at once and lands in every inbox exactly once, fanned out in batches', async () => {
    // Many users, created directly in the database (registration is not what is under test).
    await pg.query(
      `INSERT INTO users (username, email, password_hash) SELECT 'bulk' || g, 'bulk' || g || '@example.test', 'x' FROM generate_series(1, 1200) g`,
    );
    const live = await registerUser(t);
    const s = await connectSocket(t, live.token);
    const sub = subscribe(gqlWs(t, live.token), 'subscription { notificationAdded { type title } }');
    await waitForGqlSubscriber(t, `notifications:${live.id}`);
    const { rows } = await pg.query('SELECT count(*)::int AS n FROM users');
    const everyone = rows[0].n as number;
    expect(everyone).toBeGreaterThan(1200);

    const heard = nextEvent(s, 'new_notification', (p: any) => p.notification.type === 'broadcast', 15_000);
    const started = Date.now();
    const res = await http(t)
      .post('/api/notifications/send')
      .set('authorization', bearer(admin))
      .send({ broadcast: true, type: 'broadcast', title: 'Hello everyone', body: 'Welcome to Softchat' })
      .expect(202);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.body).toMatchObject({ status: 'queued', broadcast: true, recipients: null });
    const dispatchId = res.body.dispatchId as string;

    expect((await heard).notification).toMatchObject({ userId: live.id, type: 'broadcast', title: 'Hello everyone' });
    expect(((await sub.next(15_000)) as any).data.notificationAdded).toEqual({ type: 'broadcast', title: 'Hello everyone' });

    const jobs = t.app.get(JobsService).queue('notifications');
    const dispatch = await jobs.getJob(dispatchId);
    const result = await dispatch!.waitUntilFinished(events, 15_000);
    expect(result.batches).toBeGreaterThanOrEqual(3); // 500 per batch
    const batchIds = (await jobs.getJobs(['completed', 'active', 'waiting', 'delayed'])).filter((j) => j.id?.startsWith(`${dispatchId}_`));
    expect(batchIds).toHaveLength(result.batches);
    await Promise.all(batchIds.map((j) => j.waitUntilFinished(events, 15_000)));

    const per = await pg.query(
      `SELECT count(*)::int AS users, min(c)::int AS min, max(c)::int AS max FROM (
         SELECT u.id, count(n.id) AS c FROM users u LEFT JOIN notifications n ON n.user_id = u.id AND n.type = 'broadcast' GROUP BY u.id) x`,
    );
    expect(per.rows[0]).toEqual({ users: everyone, min: 1, max: 1 });

    // A retried batch (same dispatch) stores nothing new.
    const again = await jobs.add('deliver', batchIds[0].data, { jobId: `${dispatchId}_retry` });
    expect(await again.waitUntilFinished(events, 10_000)).toEqual({ delivered: 0 });
    const total = await pg.query(`SELECT count(*)::int AS n FROM notifications WHERE type = 'broadcast'`);
    expect(total.rows[0].n).toBe(everyone);
  });

  it('GraphQL: inbox query, read mutations, and the admin-only sendNotification', async () => {
    const u = await registerUser(t);
    await service().notify(u.id, { type: 'tip', title: 'You got a tip', body: '5 SOFT from a fan', data: { amount: '5.00000000' } });
    const q = await gql(t, 'query { notifications(limit: 5) { items { id type title data read } nextCursor unreadCount } }', {}, u.token).expect(200);
    expect(q.body.data.notifications).toEqual({
      items: [{ id: expect.any(String), type: 'tip', title: 'You got a tip', data: { amount: '5.00000000' }, read: false }],
      nextCursor: null,
      unreadCount: 1,
    });
    const id = q.body.data.notifications.items[0].id;
    const read = await gql(t, 'mutation($id: ID!) { markNotificationRead(id: $id) { id read } }', { id }, u.token).expect(200);
    expect(read.body.data.markNotificationRead).toEqual({ id, read: true });
    const all = await gql(t, 'mutation { markAllNotificationsRead { updated unreadCount } }', {}, u.token).expect(200);
    expect(all.body.data.markAllNotificationsRead).toEqual({ updated: 0, unreadCount: 0 });

    const send = 'mutation($i: SendNotificationInput!) { sendNotification(input: $i) { dispatchId status broadcast recipients } }';
    const vars = { i: { userIds: [u.id], type: 'system', title: 'From GraphQL', body: 'hi', data: { k: 1 } } };
    const denied = await gql(t, send, vars, u.token).expect(200);
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const s = await connectSocket(t, u.token);
    const arrived = nextEvent(s, 'new_notification', (p: any) => p.notification.title === 'From GraphQL');
    const ok = await gql(t, send, vars, admin.token).expect(200);
    expect(ok.body.data.sendNotification).toMatchObject({ status: 'queued', broadcast: false, recipients: 1 });
    expect((await arrived).notification.data).toEqual({ k: 1 });
    await eventually(async () => (await inbox(u)).unreadCount === 1);
  });
});
