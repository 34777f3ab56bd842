import { useEffect, useMemo, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { errorText } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { Button, Empty, ErrorState, Loading, Page, toast } from '../lib/ui';
import { useUnread, type LiveNotification } from '../shell/unread';

const FIELDS = 'id type title body read createdAt';
const LIST = `query Notifications($cursor: String, $unreadOnly: Boolean) { notifications(limit: 20, cursor: $cursor, unreadOnly: $unreadOnly) { items { ${FIELDS} } nextCursor unreadCount } }`;
const READ = `mutation ReadOne($id: ID!) { markNotificationRead(id: $id) { id read } }`;
const READ_ALL = `mutation ReadAll { markAllNotificationsRead { unreadCount updated } }`;

type Page_ = { notifications: { items: LiveNotification[]; nextCursor: string | null; unreadCount: number } };

export default function Notifications() {
  const client = useClient();
  const { count, setCount, live } = useUnread();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery<Page_>({ query: LIST, variables: { unreadOnly }, requestPolicy: 'network-only' });
  const [more, setMore] = useState<LiveNotification[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [readIds, setReadIds] = useState<Set<string>>(new Set());
  const [openId, setOpenId] = useState<string | null>(null);
  const [, readOne] = useMutation(READ);
  const [{ fetching: readingAll }, readAll] = useMutation(READ_ALL);
  const [loadingMore, setLoadingMore] = useState(false);

  useEffect(() => {
    if (!data) return;
    setMore([]);
    setCursor(data.notifications.nextCursor);
    setCount(data.notifications.unreadCount);
  }, [data, setCount]);

  // Live ones (newest first) on top of the loaded pages, each once.
  const items = useMemo(() => {
    const seen = new Set<string>();
    const base = data?.notifications.items ?? [];
    const loadedAt = base[0]?.createdAt ?? '';
    const fresh = live.filter((n) => n.createdAt >= loadedAt && (!unreadOnly || !n.read));
    return [...fresh, ...base, ...more].filter((n) => (seen.has(n.id) ? false : (seen.add(n.id), true)));
  }, [data, live, more, unreadOnly]);

  const open = async (n: LiveNotification) => {
    setOpenId(openId === n.id ? null : n.id);
    if (n.read || readIds.has(n.id)) return;
    setReadIds((s) => new Set(s).add(n.id));
    const r = await readOne({ id: n.id });
    if (r.error) toast(errorText(r.error), 'error');
    else setCount(count - 1);
  };

  const onReadAll = async () => {
    const r = await readAll({});
    if (r.error) return toast(errorText(r.error), 'error');
    setReadIds(new Set(items.map((n) => n.id)));
    setCount((r.data as { markAllNotificationsRead: { unreadCount: number } }).markAllNotificationsRead.unreadCount);
  };

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    const r = await client.query<Page_>(LIST, { cursor, unreadOnly }, { requestPolicy: 'network-only' }).toPromise();
    setLoadingMore(false);
    if (r.error || !r.data) return toast(errorText(r.error), 'error');
    setMore((m) => [...m, ...r.data!.notifications.items]);
    setCursor(r.data.notifications.nextCursor);
  };

  return (
    <Page
      title="Notifications"
      actions={
        <>
          <Button aria-pressed={unreadOnly} onClick={() => setUnreadOnly(!unreadOnly)}>
            {unreadOnly ? 'Show all' : 'Unread only'}
          </Button>
          <Button variant="primary" onClick={() => void onReadAll()} busy={readingAll} disabled={count === 0}>
            Mark all as read
          </Button>
        </>
      }
    >
      <div className="card">
        <p className="muted" aria-live="polite">
          {count} unread
        </p>
        {fetching && !data && <Loading />}
        {error && <ErrorState error={error} retry={() => refetch({ requestPolicy: 'network-only' })} />}
        {data && items.length === 0 && <Empty>{unreadOnly ? 'Nothing unread.' : 'No notifications yet.'}</Empty>}
        <ul className="list" aria-label="Notifications list">
          {items.map((n) => {
            const read = n.read || readIds.has(n.id);
            return (
              <li key={n.id} className={`notif${read ? '' : ' unread'}`}>
                <button type="button" className="open" aria-expanded={openId === n.id} onClick={() => void open(n)}>
                  <strong>{n.title}</strong>
                  {!read && <span className="visually-hidden"> (unread)</span>}
                  <span className="muted">
                    {' '}
                    · {n.type} · <time dateTime={n.createdAt}>{formatDateTime(n.createdAt)}</time>
                  </span>
                </button>
                {openId === n.id ? <p>{n.body}</p> : <p className="muted clamp">{n.body}</p>}
              </li>
            );
          })}
        </ul>
        {cursor && (
          <Button onClick={() => void loadMore()} busy={loadingMore}>
            Load more
          </Button>
        )}
      </div>
    </Page>
  );
}
