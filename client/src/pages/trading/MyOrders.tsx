import { useEffect, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { errorText } from '../../lib/api';
import { onReconnect } from '../../lib/connection';
import { formatTime, groupDecimal } from '../../lib/format';
import { Button, Empty, ErrorState, Loading, toast } from '../../lib/ui';

type Order = { id: string; pairId: string; side: string; type: string; price: string | null; quantity: string; filledQuantity: string; status: string; createdAt: string };
const FIELDS = 'id pairId side type price quantity filledQuantity status createdAt';
const OPEN = `query MyOpen($pairId: ID) { myOrders(pairId: $pairId, status: "open,partially_filled", limit: 100) { items { ${FIELDS} } } }`;
const LIVE = `subscription MyOrdersLive { orderUpdated { ${FIELDS} } }`;
const CANCEL = `mutation Cancel($orderId: ID!) { cancelOrder(orderId: $orderId) { id status } }`;
const isOpen = (s: string) => s === 'open' || s === 'partially_filled';

/** My open orders on this pair, kept live by `orderUpdated` (fills, cancels, new orders from other tabs). */
export function MyOrders({ pairId }: { pairId: string }) {
  const [{ data, fetching, error }, refetch] = useQuery<{ myOrders: { items: Order[] } }>({ query: OPEN, variables: { pairId }, requestPolicy: 'network-only' });
  const [orders, setOrders] = useState<Order[]>([]);
  const [, cancel] = useMutation(CANCEL);

  useEffect(() => {
    if (data) setOrders(data.myOrders.items);
  }, [data]);
  useEffect(() => onReconnect((ch) => ch === 'graphql' && refetch({ requestPolicy: 'network-only' })), [refetch]);
  useSubscription<{ orderUpdated: Order }>({ query: LIVE }, (_p, ev) => {
    const o = ev.orderUpdated;
    if (o.pairId === pairId)
      setOrders((list) => {
        const rest = list.filter((x) => x.id !== o.id);
        return isOpen(o.status) ? [o, ...rest].sort((a, b) => b.createdAt.localeCompare(a.createdAt)) : rest;
      });
    return ev;
  });

  const onCancel = async (o: Order) => {
    const r = await cancel({ orderId: o.id });
    if (r.error) toast(errorText(r.error), 'error');
    else setOrders((l) => l.filter((x) => x.id !== o.id));
  };

  if (fetching && !data) return <Loading />;
  if (error && !data) return <ErrorState error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (orders.length === 0) return <Empty>No open orders on this pair.</Empty>;
  return (
    <div className="table-wrap">
      <table aria-label="My open orders">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Side</th>
            <th scope="col" className="num">
              Price
            </th>
            <th scope="col" className="num">
              Filled / amount
            </th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {orders.map((o) => (
            <tr key={o.id}>
              <td>{formatTime(o.createdAt)}</td>
              <td className={o.side}>{o.side}</td>
              <td className="num">{o.price ? groupDecimal(o.price) : 'market'}</td>
              <td className="num">
                {groupDecimal(o.filledQuantity)} / {groupDecimal(o.quantity)}
              </td>
              <td>{o.status.replace('_', ' ')}</td>
              <td>
                <Button variant="danger" onClick={() => void onCancel(o)} aria-label={`Cancel ${o.side} ${o.quantity} at ${o.price ?? 'market'}`}>
                  Cancel
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
