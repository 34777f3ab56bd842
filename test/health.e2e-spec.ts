import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { http } from './harness/clients';
import { RedisService } from '../src/core/redis/redis.service';

/** Health is 200 only while Postgres and Redis both answer. */
describe('health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 503 naming Redis while Redis is unreachable, and 200 once it is back', async () => {
    const redis = t.app.get(RedisService);
    redis.client.disconnect();
    const down = await http(t).get('/api/health').expect(503);
    expect(down.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } }, details: { database: { status: 'up' } } });
    await redis.client.connect();
    await http(t).get('/api/health').expect(200);
  });

  it('answers 503 naming the database while Postgres is unreachable, and 200 once it is back', async () => {
    const ds: DataSource = t.app.get(getDataSourceToken());
    await ds.destroy();
    const down = await http(t).get('/api/health').expect(503);
    expect(down.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
    await ds.initialize();
    const up = await http(t).get('/api/health').expect(200);
    expect(up.body.status).toBe('ok');
  });
});
