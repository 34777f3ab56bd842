import { memo } from 'react';
import { groupDecimal } from '../../lib/format';
import { ErrorState, Loading } from '../../lib/ui';
import { topLevels, type Book } from './book';

const DEPTH = 12;

function Side({ rows, side, max }: { rows: { price: string; qty: string; cumulative: number }[]; side: 'bid' | 'ask'; max: number }) {
  return (
    <>
      {rows.map((r) => (
        <tr key={r.price} className={side}>
          <td className="num">
            <span className="depthbar" style={{ width: `${max ? Math.min(100, (r.cumulative / max) * 100) : 0}%` }} aria-hidden="true" />
            {groupDecimal(r.price)}
          </td>
          <td className="num">{groupDecimal(r.qty)}</td>
        </tr>
      ))}
    </>
  );
}

/** Asks above (best nearest the middle), bids below, with cumulative depth bars. */
export const OrderBookView = memo(function OrderBookView({ book, error, retry, base, quote }: { book: Book | null; error: unknown; retry: () => void; base: string; quote: string }) {
  if (error && !book) return <ErrorState error={error} retry={retry} />;
  if (!book) return <Loading label="Loading the order book…" />;
  const { bids, asks } = topLevels(book, DEPTH);
  const max = Math.max(bids.at(-1)?.cumulative ?? 0, asks.at(-1)?.cumulative ?? 0);
  const spread = book.asks[0] && book.bids[0] ? `${groupDecimal(book.bids[0][0])} / ${groupDecimal(book.asks[0][0])}` : '—';
  return (
    <table className="book" aria-label="Order book" data-sequence={book.sequence}>
      <thead>
        <tr>
          <th scope="col" className="num">
            Price ({quote})
          </th>
          <th scope="col" className="num">
            Amount ({base})
          </th>
        </tr>
      </thead>
      <tbody aria-label="Asks">
        {asks.length === 0 ? (
          <tr>
            <td colSpan={2} className="muted">
              No asks
            </td>
          </tr>
        ) : (
          <Side rows={[...asks].reverse()} side="ask" max={max} />
        )}
      </tbody>
      <tbody>
        <tr>
          <td colSpan={2} className="muted spread">
            Bid / ask: {spread}
          </td>
        </tr>
      </tbody>
      <tbody aria-label="Bids">
        {bids.length === 0 ? (
          <tr>
            <td colSpan={2} className="muted">
              No bids
            </td>
          </tr>
        ) : (
          <Side rows={bids} side="bid" max={max} />
        )}
      </tbody>
    </table>
  );
});
