import { useEffect, useId, useState, useSyncExternalStore, type ButtonHTMLAttributes, type InputHTMLAttributes, type ReactNode } from 'react';
import { errorText } from './api';
import { useChannels } from './connection';
import { formatRemaining, groupDecimal } from './format';

export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Softchat`;
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <h1 id="page-title">{title}</h1>
        {actions && <div className="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <p>Something went wrong: {errorText(error)}</p>
      {retry && (
        <Button type="button" onClick={retry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/** A decimal string from the API, shown as it is (grouping separators only), with its asset. */
export function Amount({ value, asset, signed }: { value: string; asset?: string; signed?: boolean }) {
  const neg = value.startsWith('-');
  const shown = signed && !neg && !/^0*(\.0*)?$/.test(value) ? `+${groupDecimal(value)}` : groupDecimal(value);
  return (
    <span className={`amount${signed ? (neg ? ' neg' : ' pos') : ''}`}>
      {shown}
      {asset ? <span className="asset"> {asset}</span> : null}
    </span>
  );
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: string; as?: 'input' };
/** An input with its visible label (its accessible name). */
export function Field({ label, hint, className, id, ...input }: FieldProps) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={fid}>{label}</label>
      <input id={fid} aria-describedby={hint ? `${fid}-hint` : undefined} {...input} />
      {hint && (
        <small id={`${fid}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

export function SelectField({
  label,
  options,
  id,
  ...select
}: React.SelectHTMLAttributes<HTMLSelectElement> & { label: string; options: { value: string; label: string }[] }) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className="field">
      <label htmlFor={fid}>{label}</label>
      <select id={fid} {...select}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Button({
  variant = 'default',
  busy,
  className,
  children,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: 'default' | 'primary' | 'danger' | 'ghost'; busy?: boolean }) {
  return (
    <button type="button" className={`btn btn-${variant} ${className ?? ''}`} disabled={busy || rest.disabled} aria-busy={busy || undefined} {...rest}>
      {children}
    </button>
  );
}

// Toasts: a tiny store (no library needed for a list of strings with timeouts).
type Toast = { id: number; message: string; kind: 'info' | 'error' };
let toasts: Toast[] = [];
let nextToast = 1;
const toastListeners = new Set<() => void>();
const emitToasts = () => toastListeners.forEach((l) => l());

export function toast(message: string, kind: 'info' | 'error' = 'info') {
  const t = { id: nextToast++, message, kind };
  toasts = [...toasts, t].slice(-5);
  emitToasts();
  setTimeout(() => {
    toasts = toasts.filter((x) => x.id !== t.id);
    emitToasts();
  }, 5000);
}

export function Toaster() {
  const list = useSyncExternalStore(
    (cb) => {
      toastListeners.add(cb);
      return () => toastListeners.delete(cb);
    },
    () => toasts,
  );
  return (
    <div className="toaster" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`}>
          {t.message}
        </div>
      ))}
    </div>
  );
}

/** Time left until `until` (ISO or ms), ticking every second; "0:00" once passed. */
export function Countdown({ until, label }: { until: string | number; label?: string }) {
  const end = typeof until === 'number' ? until : Date.parse(until);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (end <= now) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [end, now]);
  const left = end - now;
  return (
    <time className={`countdown${left <= 0 ? ' over' : ''}`} dateTime={new Date(end).toISOString()} aria-label={label ? `${label}: ${formatRemaining(left)}` : undefined}>
      {formatRemaining(left)}
    </time>
  );
}

/** Live connection state of the realtime channels (graphql-ws and Socket.IO). */
export function ConnectionBadge() {
  const c = useChannels();
  const states = [c.graphql, c.socket];
  const label = states.every((s) => s === 'connected')
    ? 'Connected'
    : states.some((s) => s === 'reconnecting')
      ? 'Reconnecting…'
      : states.some((s) => s === 'connecting')
        ? 'Connecting…'
        : states.every((s) => s === 'idle')
          ? 'Offline'
          : 'Connecting…';
  const cls = label === 'Connected' ? 'good' : label === 'Offline' ? 'bad' : 'warn';
  return (
    <span className={`conn conn-${cls}`} role="status" title={`GraphQL: ${c.graphql}, Socket.IO: ${c.socket}`}>
      <span className="dot" aria-hidden="true" /> {label}
    </span>
  );
}
