import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { api, errorText } from '../../lib/api';
import { Button, Field } from '../../lib/ui';
import type { Video } from './watch';

/** Creators publish a video by URL, with an optional pre-roll ad and watch milestones. */
export function PublishVideo() {
  const navigate = useNavigate();
  const [f, setF] = useState({ title: '', url: '', durationSeconds: '', adSeconds: '', adReward: '0.1', milestones: '50,100', milestoneReward: '0.5' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const duration = Number(f.durationSeconds);
    if (!f.title.trim()) return setError('Title is required');
    if (!(duration >= 1)) return setError('Duration must be at least 1 second');
    const percents = f.milestones.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (percents.some((p) => !Number.isInteger(p) || p < 1 || p > 100)) return setError('Milestones must be whole percentages between 1 and 100');
    const adSeconds = f.adSeconds.trim() ? Number(f.adSeconds) : 0;
    setBusy(true);
    try {
      const v = await api<Video>('/videos', {
        body: {
          title: f.title.trim(),
          url: f.url.trim(),
          durationSeconds: duration,
          ...(adSeconds > 0 ? { ads: [{ position: 'pre', durationSeconds: adSeconds, reward: f.adReward.trim() }] } : {}),
          milestones: percents.map((percent) => ({ percent, reward: f.milestoneReward.trim() })),
        },
      });
      navigate(`/videos/${v.id}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="publish-title">
      <h2 id="publish-title">Publish a video</h2>
      <div className="row">
        <Field label="Title" value={f.title} onChange={set('title')} maxLength={200} required />
        <Field label="Video URL" type="url" value={f.url} onChange={set('url')} required hint="A file URL, or a YouTube or Vimeo link" />
        <Field label="Duration (seconds)" type="number" min={1} value={f.durationSeconds} onChange={set('durationSeconds')} required />
      </div>
      <div className="row">
        <Field label="Pre-roll ad (seconds)" type="number" min={0} max={300} value={f.adSeconds} onChange={set('adSeconds')} hint="Empty for none" />
        <Field label="Ad reward (SOFT)" inputMode="decimal" value={f.adReward} onChange={set('adReward')} />
        <Field label="Milestones (%)" value={f.milestones} onChange={set('milestones')} hint="Comma separated" />
        <Field label="Milestone reward (SOFT)" inputMode="decimal" value={f.milestoneReward} onChange={set('milestoneReward')} />
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      <div>
        <Button type="submit" variant="primary" busy={busy}>
          Publish
        </Button>
      </div>
    </form>
  );
}
