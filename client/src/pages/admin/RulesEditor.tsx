import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, errorText } from '../../lib/api';
import { Button, Empty, ErrorState, Field, Loading, toast } from '../../lib/ui';
import { draftOf, rulePatch, type RewardRule, type RuleDraft } from './rules';

/** Every reward rule, each editable on its own row; only changed fields are sent. */
export function RulesEditor() {
  const [rules, setRules] = useState<RewardRule[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    setError(null);
    try {
      setRules(await api<RewardRule[]>('/rewards/rules'));
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="card stack" aria-labelledby="rules-title">
      <h2 id="rules-title">Reward rules</h2>
      {error ? (
        <ErrorState error={error} retry={() => void load()} />
      ) : !rules ? (
        <Loading label="Loading rules…" />
      ) : rules.length === 0 ? (
        <Empty>No rules.</Empty>
      ) : (
        <ul className="list">
          {rules.map((r) => (
            <RuleRow key={r.action} rule={r} onSaved={(n) => setRules((l) => l?.map((x) => (x.action === n.action ? n : x)) ?? null)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function RuleRow({ rule, onSaved }: { rule: RewardRule; onSaved: (r: RewardRule) => void }) {
  const [d, setD] = useState<RuleDraft>(() => draftOf(rule));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setD(draftOf(rule)), [rule]);
  const { patch, problems } = rulePatch(rule, d);
  const dirty = Object.keys(patch).length > 0;
  const name = rule.action.replace(/_/g, ' ');

  async function save(e: FormEvent) {
    e.preventDefault();
    if (Object.keys(problems).length) return setError(Object.values(problems).join('. '));
    if (!dirty) return;
    setBusy(true);
    setError(null);
    try {
      const saved = await api<RewardRule>(`/admin/rewards/rules/${encodeURIComponent(rule.action)}`, { method: 'PATCH', body: patch });
      onSaved(saved);
      toast(`Saved the ${name} rule`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li>
      <form className="row" onSubmit={save} aria-label={`Rule ${name}`}>
        <strong style={{ flex: '1 1 10rem', alignSelf: 'center' }}>{name}</strong>
        <Field label={`Amount for ${name}`} inputMode="decimal" value={d.amount} onChange={(e) => setD({ ...d, amount: e.target.value })} aria-invalid={!!problems.amount} />
        <Field label={`Daily cap for ${name}`} inputMode="numeric" value={d.dailyCap} onChange={(e) => setD({ ...d, dailyCap: e.target.value })} aria-invalid={!!problems.dailyCap} />
        <Field
          label={`Cooldown (s) for ${name}`}
          inputMode="numeric"
          value={d.cooldownSeconds}
          onChange={(e) => setD({ ...d, cooldownSeconds: e.target.value })}
          aria-invalid={!!problems.cooldownSeconds}
        />
        <label className="check" style={{ alignSelf: 'center' }}>
          <input type="checkbox" checked={d.enabled} onChange={(e) => setD({ ...d, enabled: e.target.checked })} /> Enabled
          <span className="visually-hidden"> ({name})</span>
        </label>
        <Button type="submit" variant="primary" busy={busy} disabled={!dirty} aria-label={`Save ${name}`}>
          Save
        </Button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
    </li>
  );
}
