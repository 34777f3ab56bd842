import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './harness/app';
import { closeClients, http, loginAdmin, registerUser, TestUser } from './harness/clients';
import { balanceOf, deposit } from './harness/money';
import { verifyLedger } from '../src/modules/ledger/ledger-verifier';
import { LedgerService } from '../src/modules/ledger/ledger.service';

/** TRADING_FEE_BPS: each side pays the fee on what it receives, as its own movement to the fee account. */
describe('trading fees', () => {
  let t: TestApp;
  let admin: TestUser;
  let ds: DataSource;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRADING_FEE_BPS: '25' } });
    admin = await loginAdmin(t);
    ds = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    expect((await verifyLedger(ds)).filter((r) => !r.ok)).toEqual([]);
    await closeClients();
    await t.close();
  });

  const place = async (u: TestUser, body: Record<string, unknown>) =>
    (await http(t).post('/api/trading/orders').set('authorization', `Bearer ${u.token}`).send(body).expect(201)).body;

  it('charges 0.25 % of what each side receives, rounded up to the minor unit, and conserves every unit', async () => {
    const ledger = t.app.get(LedgerService);
    const seller = await registerUser(t);
    const buyer = await registerUser(t);
    await deposit(t, admin, seller.id, 'BTC', '1');
    await deposit(t, admin, buyer.id, 'USD', '40000.00');
    const fees0 = { BTC: await ledger.systemBalance({ system: 'fees' }, 'BTC'), USD: await ledger.systemBalance({ system: 'fees' }, 'USD') };

    const sell = await place(seller, { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '65000.00', quantity: '0.5000' });
    const buy = await place(buyer, { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '65000.00', quantity: '0.5000' });
    // 0.5 BTC × 65000 = 32500.00 USD. Buyer: 0.25 % of 0.5 BTC = 0.00125 BTC. Seller: 0.25 % of 32500.00 = 81.25 USD.
    expect(buy).toMatchObject({ status: 'filled', quoteQuantity: '32500.00', fee: '0.00125000', feeAsset: 'BTC' });
    const sold = (await http(t).get(`/api/trading/orders/${sell.id}`).set('authorization', `Bearer ${seller.token}`).expect(200)).body;
    expect(sold).toMatchObject({ status: 'filled', quoteQuantity: '32500.00', fee: '81.25', feeAsset: 'USD' });
    expect(await balanceOf(t, buyer, 'BTC')).toMatchObject({ total: '0.49875000', held: '0.00000000' });
    expect(await balanceOf(t, buyer, 'USD')).toMatchObject({ total: '7500.00', held: '0.00' });
    expect(await balanceOf(t, seller, 'USD')).toMatchObject({ total: '32418.75', held: '0.00' });
    expect(await balanceOf(t, seller, 'BTC')).toMatchObject({ total: '0.50000000', held: '0.00000000' });

    // The fee is its own movement in the payer's history.
    const hist = (await http(t).get(`/api/wallet/${buyer.id}/transactions`).set('authorization', `Bearer ${buyer.token}`).expect(200)).body.items;
    expect(hist.filter((h: any) => h.type === 'trading_fee').map((h: any) => [h.asset, h.amount])).toEqual([['BTC', '-0.00125000']]);

    // A fill too small for a whole-unit fee in one asset pays one minor unit there (rounded up), and the other side its own.
    await place(seller, { pairId: 'BTC-USD', side: 'sell', type: 'limit', price: '100.00', quantity: '0.0100' });
    const small = await place(buyer, { pairId: 'BTC-USD', side: 'buy', type: 'limit', price: '100.00', quantity: '0.0100' });
    // 0.01 BTC × 100.00 = 1.00 USD: seller fee ceil(0.0025) = 0.01 USD; buyer fee 0.25 % of 0.01 BTC = 0.000025 BTC.
    expect(small).toMatchObject({ status: 'filled', quoteQuantity: '1.00', fee: '0.00002500' });

    const fees = { BTC: await ledger.systemBalance({ system: 'fees' }, 'BTC'), USD: await ledger.systemBalance({ system: 'fees' }, 'USD') };
    expect(fees.BTC - fees0.BTC).toBe(125_000n + 2_500n);
    expect(fees.USD - fees0.USD).toBe(8_125n + 1n);
    // Users plus the fee account hold exactly what was deposited.
    const [sum] = await ds.query(
      `SELECT (SELECT sum(posted) FROM ledger_accounts WHERE user_id = ANY($1) AND asset = 'BTC')::text AS btc,
              (SELECT sum(posted) FROM ledger_accounts WHERE user_id = ANY($1) AND asset = 'USD')::text AS usd`,
      [[buyer.id, seller.id]],
    );
    expect(BigInt(sum.btc) + fees.BTC - fees0.BTC).toBe(100_000_000n);
    expect(BigInt(sum.usd) + fees.USD - fees0.USD).toBe(4_000_000n);
  });
});
