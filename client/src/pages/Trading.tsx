import { useEffect, useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { useQuery, useSubscription } from 'urql';
import { onReconnect } from '../lib/connection';
import { formatTime, groupDecimal } from '../lib/format';
import { Amount, Empty, ErrorState, Loading, Page, SelectField } from '../lib/ui';
import { Chart } from './trading/Chart';
import { MyOrders } from './trading/MyOrders';
import { OrderBookView } from './trading/OrderBookView';
import { OrderForm, type Pair } from './trading/OrderForm';
import { useOrderBook } from './trading/useOrderBook';

type PairRow = Pair & { lastPrice: string | null; change24h: string | null; high24h: string | null; low24h: string | null; volume24h: string };
type Trade = { id: string; pairId: string; price: string; quantity: string; side: string; at: string };
type Price = { symbol: string; price: string; change24h: string | null; source: string; updatedAt: string };

const PAIRS = `query Pairs { tradingPairs { id base quote tickSize lotSize minQuantity lastPrice change24h high24h low24h volume24h } }`;
const TRADES = `query Trades($pairId: ID!) { recentTrades(pairId: $pairId, limit: 30) { items { id pairId price quantity side at } } }`;
const TRADES_LIVE = `subscription TradesLive($pairId: ID!) { tradeExecuted(pairId: $pairId) { id pairId price quantity side at } }`;
const PRICE_LIVE = `subscription PriceLive($symbols: [String!]!) { priceUpdated(symbols: $symbols) { symbol price change24h source updatedAt } }`;

function useTrades(pairId: string) {
  const [{ data, error }, refetch] = useQuery<{ recentTrades: { items: Trade[] } }>({ query: TRADES, variables: { pairId }, requestPolicy: 'network-only' });
  const [trades, setTrades] = useState<Trade[] | null>(null);
  useEffect(() => setTrades(data ? data.recentTrades.items : null), [data]);
  useEffect(() => onReconnect((ch) => ch === 'graphql' && refetch({ requestPolicy: 'network-only' })), [refetch]);
  useSubscription<{ tradeExecuted: Trade }>({ query: TRADES_LIVE, variables: { pairId } }, (_p, ev) => {
    const t = ev.tradeExecuted;
    setTrades((l) => (l?.some((x) => x.id === t.id) ? l : [t, ...(l ?? [])].slice(0, 50)));
    return ev;
  });
  return { trades, error };
}

function Ticker({ pair, last }: { pair: PairRow; last: Trade | null }) {
  const [index, setIndex] = useState<Price | null>(null);
  useEffect(() => setIndex(null), [pair.base]);
  useSubscription<{ priceUpdated: Price }>({ query: PRICE_LIVE, variables: { symbols: [pair.base] } }, (_p, ev) => {
    setIndex(ev.priceUpdated);
    return ev;
  });
  const lastPrice = last?.price ?? pair.lastPrice;
  const change = pair.change24h;
  return (
    <div className="ticker" aria-label={`${pair.id} ticker`}>
      <span>
        <span className="muted">Last </span>
        <span className="last" aria-live="polite">
          {lastPrice ? <Amount value={lastPrice} asset={pair.quote} /> : '—'}
        </span>
      </span>
      {change != null && <span className={change.startsWith('-') ? 'neg amount' : 'pos amount'}>{change.startsWith('-') ? change : `+${change}`}% 24h</span>}
      <span className="muted">High {pair.high24h ? groupDecimal(pair.high24h) : '—'}</span>
      <span className="muted">Low {pair.low24h ? groupDecimal(pair.low24h) : '—'}</span>
      <span className="muted">
        Volume {groupDecimal(pair.volume24h)} {pair.base}
      </span>
      <span className="muted">
        Index {pair.base}: {index ? <Amount value={index.price} asset={index.symbol === pair.base ? 'USD' : ''} /> : '—'}
      </span>
    </div>
  );
}

/** Its own component, so the book's frequent updates re-render only the book. */
function BookPanel({ pair }: { pair: PairRow }) {
  const { book, error, retry } = useOrderBook(pair.id);
  return <OrderBookView book={book} error={error} retry={retry} base={pair.base} quote={pair.quote} />;
}

function Market({ pair, onTrade }: { pair: PairRow; onTrade: () => void }) {
  const { trades, error: tradesError } = useTrades(pair.id);
  const last = trades?.[0] ?? null;
  // A trade moves the 24 h figures: re-read the pair, at most every 2 s.
  const lastRefresh = useRef(0);
  useEffect(() => {
    if (!last || Date.now() - lastRefresh.current < 2000) return;
    lastRefresh.current = Date.now();
    onTrade();
  }, [last?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className="stack">
      <section className="card">
        <Ticker pair={pair} last={last} />
      </section>
      <div className="grid grid-trade">
        <section className="card" aria-labelledby="chart-h">
          <h2 id="chart-h">Chart</h2>
          <Chart pairId={pair.id} lastTrade={last} />
        </section>
        <section className="card book-panel" aria-labelledby="book-h">
          <h2 id="book-h">Order book</h2>
          <BookPanel pair={pair} />
        </section>
      </div>
      <div className="grid grid-orders">
        <section className="card" aria-labelledby="place-h">
          <h2 id="place-h">Place order</h2>
          <OrderForm pair={pair} />
        </section>
        <section className="card" aria-labelledby="mine-h">
          <h2 id="mine-h">My open orders</h2>
          <MyOrders pairId={pair.id} />
        </section>
        <section className="card" aria-labelledby="trades-h">
          <h2 id="trades-h">Recent trades</h2>
          {!trades && !tradesError && <Loading />}
          {tradesError && !trades && <ErrorState error={tradesError} />}
          {trades?.length === 0 && <Empty>No trades yet.</Empty>}
          {trades && trades.length > 0 && (
            <table className="trades" aria-label="Recent trades">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Price
                  </th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col">Time</th>
                </tr>
              </thead>
              <tbody>
                {trades.map((t) => (
                  <tr key={t.id} className={t.side}>
                    <td className="num">{groupDecimal(t.price)}</td>
                    <td className="num">{groupDecimal(t.quantity)}</td>
                    <td>{formatTime(t.at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </div>
  );
}

export default function Trading() {
  const { pairId } = useParams();
  const navigate = useNavigate();
  const [{ data, fetching, error }, refetch] = useQuery<{ tradingPairs: PairRow[] }>({ query: PAIRS });
  const pairs = data?.tradingPairs ?? [];
  const pair = pairs.find((p) => p.id === pairId) ?? pairs[0];

  return (
    <Page
      title="Trading"
      actions={
        pairs.length > 0 && (
          <SelectField label="Pair" value={pair?.id ?? ''} onChange={(e) => navigate(`/trading/${e.target.value}`)} options={pairs.map((p) => ({ value: p.id, label: `${p.base}/${p.quote}` }))} />
        )
      }
    >
      {fetching && !data && <Loading />}
      {error && <ErrorState error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />}
      {data && !pair && <Empty>No trading pairs are listed.</Empty>}
      {pair && <Market key={pair.id} pair={pair} onTrade={() => refetch({ requestPolicy: 'network-only' })} />}
    </Page>
  );
}
