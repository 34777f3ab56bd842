import { useEffect, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { api, errorText } from '../../lib/api';
import { Button, Field } from '../../lib/ui';
import { creatorApi } from '../creator/data';
import type { CreatorCard } from '../creator/series';
import { checkNewBattle, type Battle } from './tally';

/** Creators and admins start a battle between creators. */
export function CreateBattle() {
  const navigate = useNavigate();
  const [creators, setCreators] = useState<CreatorCard[]>([]);
  const [title, setTitle] = useState('');
  const [picked, setPicked] = useState<string[]>([]);
  const [minutes, setMinutes] = useState('5');
  const [prizeAsset, setPrizeAsset] = useState('');
  const [prizeAmount, setPrizeAmount] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    creatorApi.list().then((p) => setCreators(p.items), (e) => setError(errorText(e)));
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const durationSeconds = Math.round(Number(minutes) * 60);
    const problems = checkNewBattle({ title, participantIds: picked, durationSeconds });
    if (problems.length) return setError(problems.join('. '));
    setBusy(true);
    setError(null);
    try {
      const prize = prizeAsset.trim() && prizeAmount.trim() ? { prize: { asset: prizeAsset.trim().toUpperCase(), amount: prizeAmount.trim() } } : {};
      const b = await api<Battle>('/battles', { body: { title: title.trim(), participantIds: picked, durationSeconds, ...prize } });
      navigate(`/battles/${b.id}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="new-battle-title">
      <h2 id="new-battle-title">Start a battle</h2>
      <Field label="Battle title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} required />
      <fieldset>
        <legend>Participants</legend>
        {creators.length === 0 ? (
          <p className="muted">No creators to choose from.</p>
        ) : (
          creators.map((c) => (
            <label key={c.creatorId} className="check">
              <input
                type="checkbox"
                checked={picked.includes(c.creatorId)}
                onChange={(e) => setPicked(e.target.checked ? [...picked, c.creatorId] : picked.filter((x) => x !== c.creatorId))}
              />{' '}
              {c.username}
            </label>
          ))
        )}
      </fieldset>
      <div className="row">
        <Field label="Duration (minutes)" type="number" min={0.25} max={1440} step="any" value={minutes} onChange={(e) => setMinutes(e.target.value)} required />
        <Field label="Prize asset" value={prizeAsset} onChange={(e) => setPrizeAsset(e.target.value)} placeholder="SOFT" hint="Optional" />
        <Field label="Prize amount" inputMode="decimal" value={prizeAmount} onChange={(e) => setPrizeAmount(e.target.value)} hint="Optional" />
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      <div>
        <Button type="submit" variant="primary" busy={busy}>
          Start battle
        </Button>
      </div>
    </form>
  );
}
