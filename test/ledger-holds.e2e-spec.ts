import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, loginAdmin, registerUser, TestUser } from './harness/clients';
import { balanceOf, deposit } from './harness/money';
import { LedgerService } from '../src/modules/ledger/ledger.service';
import { withTransaction } from '../src/core/database/transaction';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';

/** The service interface other modules use: holds (pending transfers), posting, voiding, joint transactions. */
describe('LedgerService holds and transactions', () => {
  let t: TestApp;
  let admin: TestUser;
  let ledger: LedgerService;
  let ds: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await loginAdmin(t);
    ledger = t.app.get(LedgerService);
    ds = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
  });

  it('holds funds out of the available balance, and refuses holds beyond it', async () => {
    const u = await registerUser(t);
    await deposit(t, admin, u.id, 'USD', '100.00');
    const hold = await ledger.hold({ key: `h1-${u.id}`, kind: 'order_hold', account: { userId: u.id }, asset: 'USD', amount: 6000n });
    expect(hold).toMatchObject({ status: 'pending', amount: 6000n, remaining: 6000n, replayed: false });
    expect(await balanceOf(t, u, 'USD')).toEqual({ asset: 'USD', available: '40.00', held: '60.00', total: '100.00' });
    const again = await ledger.hold({ key: `h1-${u.id}`, kind: 'order_hold', account: { userId: u.id }, asset: 'USD', amount: 6000n });
    expect(again).toMatchObject({ id: hold.id, replayed: true });
    await expect(ledger.hold({ key: `h1-${u.id}`, kind: 'order_hold', account: { userId: u.id }, asset: 'USD', amount: 1n })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(ledger.hold({ key: `h2-${u.id}`, kind: 'order_hold', account: { userId: u.id }, asset: 'USD', amount: 4001n })).rejects.toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
    });
    // A held amount cannot be spent by a transfer either.
    const v = await registerUser(t);
    await expect(
      ledger.transfer({ key: `x-${u.id}`, kind: 'transfer', from: { userId: u.id }, to: { userId: v.id }, asset: 'USD', amount: 4001n }),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
  });

  it('posts a hold in parts to other accounts, then releases the rest on the final posting', async () => {
    const buyer = await registerUser(t);
    const seller = await registerUser(t);
    await deposit(t, admin, buyer.id, 'USDT', '50');
    const hold = await ledger.hold({ key: `h-${buyer.id}`, kind: 'order_hold', account: { userId: buyer.id }, asset: 'USDT', amount: 30_000_000n });
    const p1 = await ledger.postHold({ key: `p1-${hold.id}`, holdId: hold.id, amount: 10_000_000n, to: { userId: seller.id }, kind: 'trade' });
    expect(p1.replayed).toBe(false);
    expect((await ledger.getHold(hold.id)).remaining).toBe(20_000_000n);
    // Replaying a posting moves nothing.
    expect((await ledger.postHold({ key: `p1-${hold.id}`, holdId: hold.id, amount: 10_000_000n, to: { userId: seller.id }, kind: 'trade' })).id).toBe(p1.id);
    await expect(ledger.postHold({ key: `p2-${hold.id}`, holdId: hold.id, amount: 20_000_001n, to: { userId: seller.id }, kind: 'trade' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await ledger.postHold({ key: `p3-${hold.id}`, holdId: hold.id, amount: 5_000_000n, to: { system: 'fees' }, kind: 'fee', final: true });
    const closed = await ledger.getHold(hold.id);
    expect(closed).toMatchObject({ status: 'posted', remaining: 0n });
    expect(await balanceOf(t, buyer, 'USDT')).toEqual({ asset: 'USDT', available: '35.000000', held: '0.000000', total: '35.000000' });
    expect((await balanceOf(t, seller, 'USDT')).total).toBe('10.000000');
    await expect(ledger.postHold({ key: `p4-${hold.id}`, holdId: hold.id, amount: 1n, to: { userId: seller.id }, kind: 'trade' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('voids and partially releases holds; voiding twice is harmless', async () => {
    const u = await registerUser(t);
    await deposit(t, admin, u.id, 'BTC', '1');
    const h = await ledger.hold({ key: `v-${u.id}`, kind: 'escrow', account: { userId: u.id }, asset: 'BTC', amount: 50_000_000n });
    await ledger.releaseHold(h.id, 20_000_000n);
    expect(await balanceOf(t, u, 'BTC')).toMatchObject({ available: '0.70000000', held: '0.30000000' });
    const v1 = await ledger.voidHold(h.id);
    expect(v1).toMatchObject({ status: 'voided', remaining: 0n, replayed: false });
    expect((await ledger.voidHold(h.id)).replayed).toBe(true);
    expect(await balanceOf(t, u, 'BTC')).toEqual({ asset: 'BTC', available: '1.00000000', held: '0.00000000', total: '1.00000000' });
    await expect(ledger.postHold({ key: `after-void-${h.id}`, holdId: h.id, amount: 1n, to: { system: 'fees' }, kind: 'fee' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('never posts more than a hold holds under concurrent postings', async () => {
    const u = await registerUser(t);
    const v = await registerUser(t);
    await deposit(t, admin, u.id, 'SOFT', '10');
    const h = await ledger.hold({ key: `c-${u.id}`, kind: 'order_hold', account: { userId: u.id }, asset: 'SOFT', amount: 1_000_000_000n });
    const results = await Promise.allSettled(
      Array.from({ length: 15 }, (_, i) => ledger.postHold({ key: `c-${h.id}-${i}`, holdId: h.id, amount: 100_000_000n, to: { userId: v.id }, kind: 'trade' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect((await balanceOf(t, v, 'SOFT')).total).toBe('10.00000000');
    expect(await balanceOf(t, u, 'SOFT')).toMatchObject({ total: '0.00000000', held: '0.00000000' });
  });

  it("joins the caller's transaction: a later failure rolls the movement back", async () => {
    const u = await registerUser(t);
    const v = await registerUser(t);
    await deposit(t, admin, u.id, 'ETH', '1');
    await expect(
      withTransaction(ds, async (tx) => {
        await ledger.transfer({ key: `j-${u.id}`, kind: 'trade', from: { userId: u.id }, to: { userId: v.id }, asset: 'ETH', amount: 10n ** 17n }, tx);
        throw new Error('the trade record could not be written');
      }),
    ).rejects.toThrow('the trade record');
    expect((await balanceOf(t, u, 'ETH')).total).toBe('1.000000000000000000');
    expect((await balanceOf(t, v, 'ETH')).total).toBe('0.000000000000000000');
    // The key was not burnt by the rolled-back attempt.
    const ok = await ledger.transfer({ key: `j-${u.id}`, kind: 'trade', from: { userId: u.id }, to: { userId: v.id }, asset: 'ETH', amount: 10n ** 17n });
    expect(ok.replayed).toBe(false);
  });

  it('refuses negative balances in the database itself, whatever the application does', async () => {
    const u = await registerUser(t);
    await deposit(t, admin, u.id, 'USD', '1.00');
    await expect(ds.query(`UPDATE ledger_accounts SET posted = posted - 1000 WHERE user_id = $1 AND asset = 'USD'`, [u.id])).rejects.toThrow(
      /ledger_accounts_available_non_negative/,
    );
    await expect(ds.query(`DELETE FROM ledger_entries WHERE id = (SELECT max(id) FROM ledger_entries)`)).rejects.toThrow(/immutable/);
  });
});
