import { useState, type FormEvent } from 'react';
import { api, errorText } from '../../lib/api';
import { Button, Field, toast } from '../../lib/ui';
import { notificationBody, type NotificationDraft } from './rules';

/** Send a notification to some users, or broadcast it to everyone. */
export function SendNotification() {
  const [d, setD] = useState<NotificationDraft>({ broadcast: false, recipients: '', type: 'announcement', title: '', body: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function send(e: FormEvent) {
    e.preventDefault();
    const { body, problems } = notificationBody(d);
    if (!body) return setError(problems.join('. '));
    if (d.broadcast && !window.confirm('Send this notification to every user?')) return;
    setBusy(true);
    setError(null);
    try {
      await api('/notifications/send', { body });
      toast(d.broadcast ? 'Broadcast sent' : 'Notification sent');
      setD({ ...d, title: '', body: '' });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card stack" onSubmit={send} aria-labelledby="send-title">
      <h2 id="send-title">Send a notification</h2>
      <label className="check">
        <input type="checkbox" checked={d.broadcast} onChange={(e) => setD({ ...d, broadcast: e.target.checked })} /> Broadcast to every user
      </label>
      {!d.broadcast && (
        <div className="field">
          <label htmlFor="notify-recipients">Recipient user ids</label>
          <textarea id="notify-recipients" rows={2} value={d.recipients} onChange={(e) => setD({ ...d, recipients: e.target.value })} aria-describedby="notify-recipients-hint" />
          <small id="notify-recipients-hint" className="hint">
            Separated by commas, spaces or new lines
          </small>
        </div>
      )}
      <div className="row">
        <Field label="Notification type" value={d.type} onChange={(e) => setD({ ...d, type: e.target.value })} maxLength={40} required />
        <Field label="Notification title" value={d.title} onChange={(e) => setD({ ...d, title: e.target.value })} maxLength={200} required />
      </div>
      <div className="field">
        <label htmlFor="notify-body">Notification body</label>
        <textarea id="notify-body" rows={3} value={d.body} onChange={(e) => setD({ ...d, body: e.target.value })} maxLength={2000} required />
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      <div>
        <Button type="submit" variant="primary" busy={busy}>
          {d.broadcast ? 'Broadcast' : 'Send'}
        </Button>
      </div>
    </form>
  );
}
