import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { errorText } from '../../lib/api';
import { onReconnect } from '../../lib/connection';
import { formatDateTime } from '../../lib/format';
import { Amount, Button, Empty, ErrorState, Field, Loading, SelectField, toast } from '../../lib/ui';
import { useLive } from '../live';
import { Chart } from './Charts';
import { creatorApi, STATS_UPDATED, TIP_RECEIVED } from './data';
import { addTip, earningAssets, earningsPoints, milestoneLabel, pointsOf, watchTime, type CreatorStats, type Milestone, type Tip, type TopContent } from './series';

/** A creator's numbers: KPIs, 30-day charts, live tips, milestones and top content. `own`: the signed-in creator. */
export function Dashboard({ creatorId, own }: { creatorId: string; own: boolean }) {
  const [stats, setStats] = useState<CreatorStats | null>(null);
  const [tips, setTips] = useState<Tip[] | null>(null);
  const [milestones, setMilestones] = useState<Milestone[] | null>(null);
  const [top, setTop] = useState<TopContent[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const [s, t, m, c] = await Promise.all([creatorApi.stats(creatorId), creatorApi.tips(creatorId), creatorApi.milestones(creatorId), creatorApi.top(creatorId)]);
      setStats((prev) => (prev && Date.parse(prev.updatedAt) > Date.parse(s.updatedAt) ? prev : s));
      setTips((prev) => (prev ?? []).reduce((feed, tip) => addTip(feed, tip), t));
      setMilestones(m);
      setTop(c);
    } catch (e) {
      setError(e);
    }
  }, [creatorId]);
  useEffect(() => {
    void load();
  }, [load]);

  // Events sent while a live channel was down are not replayed: read everything again after a reconnect.
  useEffect(() => onReconnect(() => void load()), [load]);

  useLive<{ creatorStatsUpdated: CreatorStats }>(STATS_UPDATED, { creatorId }, (d) => {
    setStats(d.creatorStatsUpdated);
    // Milestones follow the stats; refresh them quietly.
    void creatorApi.milestones(creatorId).then(setMilestones).catch(() => undefined);
  });
  useLive<{ tipReceived: Tip }>(
    TIP_RECEIVED,
    undefined,
    (d) => {
      setTips((feed) => addTip(feed ?? [], d.tipReceived));
      toast(`New tip: ${d.tipReceived.amount} ${d.tipReceived.asset} from ${d.tipReceived.fromUsername ?? 'a fan'}`);
    },
    !own,
  );

  if (error) return <ErrorState error={error} retry={() => void load()} />;
  if (!stats) return <Loading label="Loading creator stats…" />;
  const assets = earningAssets(stats);
  return (
    <div className="stack">
      <dl className="kpis" aria-label="Creator totals">
        <div>
          <dt>Followers</dt>
          <dd data-testid="kpi-followers">{stats.followers}</dd>
        </div>
        <div>
          <dt>Views</dt>
          <dd>{stats.totalViews}</dd>
        </div>
        <div>
          <dt>Watch time</dt>
          <dd>{watchTime(stats.totalWatchSeconds)}</dd>
        </div>
        <div>
          <dt>Tips</dt>
          <dd data-testid="kpi-tips">{stats.tipsCount}</dd>
        </div>
        <div>
          <dt>Videos</dt>
          <dd>{stats.videosCount}</dd>
        </div>
        {stats.earnings.map((e) => (
          <div key={e.asset}>
            <dt>Earned in {e.asset}</dt>
            <dd>
              <Amount value={e.amount} />
            </dd>
          </div>
        ))}
      </dl>
      <div className="grid grid-2">
        <Chart title="Followers, last 30 days" unit="followers" kind="line" points={pointsOf(stats.series, 'followers')} />
        <Chart title="Views per day" unit="views" kind="bars" points={pointsOf(stats.series, 'views')} />
        {assets.map((a) => (
          <Chart key={a} title={`Earnings per day in ${a}`} unit={a} kind="bars" points={earningsPoints(stats.series, a)} />
        ))}
      </div>
      <div className="grid grid-2">
        <section className="card stack" aria-labelledby="tips-title">
          <h2 id="tips-title">Tips{own ? ' (live)' : ''}</h2>
          {!tips ? (
            <Loading />
          ) : tips.length === 0 ? (
            <Empty>No tips yet.</Empty>
          ) : (
            <ul className="list" aria-label="Tips feed" aria-live="polite">
              {tips.map((t) => (
                <li key={t.id}>
                  <strong>{t.fromUsername ?? 'A fan'}</strong> tipped <Amount value={t.amount} asset={t.asset} />
                  {t.message ? `: “${t.message}”` : ''} <span className="muted">{formatDateTime(t.createdAt)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <Milestones creatorId={creatorId} own={own} milestones={milestones} onAdded={(m) => setMilestones((l) => [...(l ?? []), m])} />
      </div>
      <section className="card stack" aria-labelledby="top-title">
        <h2 id="top-title">Top content</h2>
        {!top ? (
          <Loading />
        ) : top.length === 0 ? (
          <Empty>No videos yet.</Empty>
        ) : (
          <ol className="list">
            {top.map((v) => (
              <li key={v.videoId}>
                <Link to={`/videos/${v.videoId}`}>{v.title}</Link>{' '}
                <span className="muted">
                  {v.views} views · {watchTime(v.watchSeconds)}
                  {v.tips.map((t) => ` · ${t.amount} ${t.asset} in tips`).join('')}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}

function Milestones({ creatorId, own, milestones, onAdded }: { creatorId: string; own: boolean; milestones: Milestone[] | null; onAdded: (m: Milestone) => void }) {
  const [metric, setMetric] = useState('followers');
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function add(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onAdded(await creatorApi.addMilestone(creatorId, metric, target.trim()));
      setTarget('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card stack" aria-labelledby="milestones-title">
      <h2 id="milestones-title">Milestones</h2>
      {!milestones ? (
        <Loading />
      ) : milestones.length === 0 ? (
        <Empty>No milestones.</Empty>
      ) : (
        <ul className="list">
          {milestones.map((m) => {
            const label = milestoneLabel(m);
            return (
              <li key={m.id}>
                <div id={`ms-${m.id}`}>{label}</div>
                <progress max={1} value={Math.min(1, Math.max(0, m.progress))} aria-labelledby={`ms-${m.id}`} />
              </li>
            );
          })}
        </ul>
      )}
      {own && (
        <form className="row" onSubmit={add}>
          <SelectField
            label="Milestone metric"
            value={metric}
            onChange={(e) => setMetric(e.target.value)}
            options={[
              { value: 'followers', label: 'Followers' },
              { value: 'views', label: 'Views' },
              { value: 'watch_hours', label: 'Watch hours' },
              { value: 'earnings', label: 'Earnings' },
            ]}
          />
          <Field label="Milestone target" inputMode="decimal" value={target} onChange={(e) => setTarget(e.target.value)} required />
          <Button type="submit" busy={busy}>
            Add milestone
          </Button>
          {error && <p role="alert" className="error">{error}</p>}
        </form>
      )}
    </section>
  );
}
