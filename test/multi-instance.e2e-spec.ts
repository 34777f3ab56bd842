import { startTestApp, TestApp } from './harness/app';
import { closeClients, connectSocket, emitAck, gqlWs, http, loginAdmin, nextEvent, registerUser, subscribe, waitForGqlSubscriber } from './harness/clients';
import { RealtimePublisher } from '../src/core/realtime/realtime.publisher';
import { JobsService } from '../src/core/queue/jobs.service';

/** Two app instances on one Postgres and one Redis namespace behave as one service. */
describe('two instances behind a load balancer', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ shareWith: a });
  });
  afterAll(async () => {
    await closeClients();
    await b.close();
    await a.close();
  });

  it('share users and sessions: registered on A, signed in and refreshed on B', async () => {
    const u = await registerUser(a);
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${u.token}`).expect(200);
    const refreshed = await http(b).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(200);
    // The used token is refused on A too: rotation state lives in Postgres.
    await http(a).post('/api/auth/refresh').send({ refreshToken: u.refreshToken }).expect(401);
    // ...and that reuse revoked the session everywhere.
    await http(b).get('/api/auth/me').set('authorization', `Bearer ${refreshed.body.accessToken}`).expect(401);
  });

  it('a Socket.IO emit on one instance reaches sockets connected to the other', async () => {
    const u = await registerUser(a);
    const onA = await connectSocket(a, u.token);
    const onB = await connectSocket(b, u.token);
    const view = { id: u.id, username: u.username, email: u.email, roles: ['user'] };
    const gotA = nextEvent(onA, 'user_updated');
    const gotB = nextEvent(onB, 'user_updated');
    b.app.get(RealtimePublisher).toUser(u.id, 'user_updated', { user: view });
    expect(await gotA).toEqual({ user: view });
    expect(await gotB).toEqual({ user: view });

    // And the other way round, through a real request: an admin on A changes roles, the user's socket on B hears it.
    const admin = await loginAdmin(a);
    const next = nextEvent(onB, 'user_updated', (p: any) => p.user.roles.includes('creator'));
    await http(a).patch(`/api/admin/users/${u.id}`).set('authorization', `Bearer ${admin.token}`).send({ roles: ['creator'] }).expect(200);
    expect((await next).user.roles.sort()).toEqual(['creator', 'user']);
    expect((await emitAck(onB, 'whoami', {})).data.userId).toBe(u.id);
  });

  it('a GraphQL subscription on one instance receives payloads published on the other', async () => {
    const u = await registerUser(a);
    const admin = await loginAdmin(b);
    const sub = subscribe(gqlWs(a, u.token), 'subscription { userUpdated { id roles } }');
    const payload = sub.next(8000);
    await waitForGqlSubscriber(a, `user-updated:${u.id}`);
    await http(b).patch(`/api/admin/users/${u.id}`).set('authorization', `Bearer ${admin.token}`).send({ roles: ['creator'] }).expect(200);
    const p = (await payload) as any;
    expect(p.data.userUpdated).toEqual({ id: u.id, roles: expect.arrayContaining(['creator', 'user']) });
  });

  it('a job enqueued on one instance is processed once by the shared workers', async () => {
    const jobs = a.app.get(JobsService);
    const { QueueEvents } = await import('bullmq');
    const events = new QueueEvents('maintenance', { connection: { url: a.config.redis.url! } as any, prefix: jobs.prefix });
    // Listening before the job exists: a job finished before the listener reads the event stream
    // would otherwise never report its completion (the wait then times out).
    await events.waitUntilReady();
    const job = await jobs.add('maintenance', 'purge-refresh-tokens', {});
    try {
      const result = await job.waitUntilFinished(events, 10_000);
      expect(result).toEqual({ purged: expect.any(Number) });
      const fresh = await b.app.get(JobsService).queue('maintenance').getJob(job.id!);
      expect(fresh?.attemptsMade).toBe(1);
      expect(await fresh?.isCompleted()).toBe(true);
    } finally {
      await events.close();
    }
  });
});
