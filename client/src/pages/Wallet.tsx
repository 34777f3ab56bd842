import { useEffect, useState } from 'react';
import { useClient, useQuery, useSubscription } from 'urql';
import { errorText } from '../lib/api';
import { onReconnect } from '../lib/connection';
import { formatDateTime } from '../lib/format';
import { useUser } from '../lib/session';
import { Amount, Button, Empty, ErrorState, Loading, Page, toast } from '../lib/ui';
import { Addresses, copy } from './wallet/Addresses';
import { TopUp } from './wallet/TopUp';
import { Transfer } from './wallet/Transfer';

type Balance = { asset: string; available: string; held: string; total: string };
type Tx = { id: string; type: string; asset: string; amount: string; balanceAfter: string; counterpartyId: string | null; note: string | null; createdAt: string };
type TxPage = { walletTransactions: { items: Tx[]; nextCursor: string | null } };

const BALANCE = `query Balance { walletBalance { userId balances { asset available held total } } }`;
const BALANCE_LIVE = `subscription BalanceLive { balanceUpdated { userId balances { asset available held total } } }`;
const TXS = `query Txs($cursor: String) { walletTransactions(limit: 20, cursor: $cursor) { items { id type asset amount balanceAfter counterpartyId note createdAt } nextCursor } }`;
const ASSETS = ['USD', 'BTC', 'ETH', 'USDT', 'SOFT'];

function History({ version }: { version: number }) {
  const client = useClient();
  const [{ data, fetching, error }, refetch] = useQuery<TxPage>({ query: TXS, requestPolicy: 'network-only' });
  const [more, setMore] = useState<Tx[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  useEffect(() => {
    if (data) {
      setMore([]);
      setCursor(data.walletTransactions.nextCursor);
    }
  }, [data]);
  // A movement happened (balanceUpdated): the newest page is out of date.
  useEffect(() => {
    if (version > 0) refetch({ requestPolicy: 'network-only' });
  }, [version, refetch]);

  const loadMore = async () => {
    setLoadingMore(true);
    const r = await client.query<TxPage>(TXS, { cursor }, { requestPolicy: 'network-only' }).toPromise();
    setLoadingMore(false);
    if (!r.data) return toast(errorText(r.error), 'error');
    const page = r.data.walletTransactions;
    setMore((m) => [...m, ...page.items]);
    setCursor(page.nextCursor);
  };

  const seen = new Set<string>();
  const rows = [...(data?.walletTransactions.items ?? []), ...more].filter((t) => (seen.has(t.id) ? false : (seen.add(t.id), true)));
  return (
    <section className="card stack" aria-labelledby="hist-h">
      <h2 id="hist-h">History</h2>
      {fetching && !data && <Loading />}
      {error && <ErrorState error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />}
      {data && rows.length === 0 && <Empty>No movements yet.</Empty>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Wallet history, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col" className="num">
                  Balance after
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id}>
                  <td>
                    <time dateTime={t.createdAt}>{formatDateTime(t.createdAt)}</time>
                  </td>
                  <td>
                    {t.type.replace(/_/g, ' ')}
                    {t.note ? <span className="muted"> · {t.note}</span> : null}
                  </td>
                  <td className="num">
                    <Amount value={t.amount} asset={t.asset} signed />
                  </td>
                  <td className="num">
                    <Amount value={t.balanceAfter} asset={t.asset} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <Button onClick={() => void loadMore()} busy={loadingMore}>
          Load older
        </Button>
      )}
    </section>
  );
}

export default function Wallet() {
  const me = useUser();
  const [{ data, fetching, error }, refetch] = useQuery<{ walletBalance: { balances: Balance[] } }>({ query: BALANCE, requestPolicy: 'network-only' });
  const [live, setLive] = useState<Balance[] | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => onReconnect((ch) => ch === 'graphql' && (refetch({ requestPolicy: 'network-only' }), setVersion((v) => v + 1))), [refetch]);
  useSubscription<{ balanceUpdated: { balances: Balance[] } }>({ query: BALANCE_LIVE }, (_p, ev) => {
    setLive(ev.balanceUpdated.balances);
    setVersion((v) => v + 1);
    return ev;
  });
  useEffect(() => setLive(null), [data]);

  const balances = live ?? data?.walletBalance.balances ?? [];
  const assets = [...new Set([...balances.map((b) => b.asset), ...ASSETS])];

  return (
    <Page title="Wallet">
      <div className="stack">
        <section className="card stack" aria-labelledby="bal-h">
          <div className="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
            <h2 id="bal-h">Balances</h2>
            <span className="muted">
              Your user ID: <code>{me.id}</code>{' '}
              <Button variant="ghost" onClick={() => void copy(me.id, 'User ID')}>
                Copy user ID
              </Button>
            </span>
          </div>
          {fetching && !data && <Loading />}
          {error && <ErrorState error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />}
          {data && balances.length === 0 && <Empty>Your wallet is empty. Deposit or top up to get started.</Empty>}
          <ul className="balances list-plain" aria-label="Balances">
            {balances.map((b) => (
              <li key={b.asset} className="card balance" aria-label={`${b.asset} balance`}>
                <h3>{b.asset}</h3>
                <div className="total">
                  <Amount value={b.total} />
                </div>
                <div className="muted">
                  Available <Amount value={b.available} />
                </div>
                {!/^0*(\.0*)?$/.test(b.held) && (
                  <div className="muted">
                    On hold <Amount value={b.held} />
                  </div>
                )}
              </li>
            ))}
          </ul>
        </section>
        <div className="grid grid-2">
          <Transfer assets={assets} />
          <TopUp />
        </div>
        <History version={version} />
        <Addresses />
      </div>
    </Page>
  );
}
