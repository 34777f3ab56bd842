import type { TestApp } from './app';
import { http, TestUser } from './clients';

let depositSeq = 0;

/** Credits a user through the real admin deposit endpoint. */
export async function deposit(t: TestApp, admin: TestUser, userId: string, asset: string, amount: string) {
  depositSeq += 1;
  const res = await http(t)
    .post(`/api/admin/wallet/${userId}/deposit`)
    .set('authorization', `Bearer ${admin.token}`)
    .send({ asset, amount, reference: `test-deposit-${Date.now()}-${depositSeq}` })
    .expect(201);
  return res.body;
}

export async function balanceOf(t: TestApp, user: TestUser, asset: string) {
  const res = await http(t).get(`/api/wallet/${user.id}/balance`).set('authorization', `Bearer ${user.token}`).expect(200);
  return res.body.balances.find((b: { asset: string }) => b.asset === asset) as { asset: string; available: string; held: string; total: string };
}

export function transfer(t: TestApp, from: TestUser, body: Record<string, unknown>, key?: string) {
  const r = http(t).post(`/api/wallet/${from.id}/transfer`).set('authorization', `Bearer ${from.token}`);
  if (key) r.set('idempotency-key', key);
  return r.send(body);
}
