import { useState, type FormEvent } from 'react';
import { errorText } from '../lib/api';
import { useSession } from '../lib/session';
import { Button, Field, SelectField } from '../lib/ui';

/** Sign in / sign up. Labels are fixed by contract §6: Email, Password, Sign in. */
export default function SignIn() {
  const { signIn, signUp, notice } = useSession();
  const [mode, setMode] = useState<'in' | 'up'>('in');
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'user' | 'creator'>('user');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'in') await signIn(email, password);
      else await signUp({ username, email, password, role });
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <div className="card signin-card">
        <h1 className="brand-big">Softchat</h1>
        <h2>{mode === 'in' ? 'Sign in' : 'Create an account'}</h2>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} className="stack">
          {mode === 'up' && (
            <Field label="Username" value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="username" minLength={3} />
          )}
          <Field label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
          <Field
            label="Password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete={mode === 'in' ? 'current-password' : 'new-password'}
          />
          {mode === 'up' && (
            <SelectField
              label="Account type"
              value={role}
              onChange={(e) => setRole(e.target.value as 'user' | 'creator')}
              options={[
                { value: 'user', label: 'Member' },
                { value: 'creator', label: 'Creator' },
              ]}
            />
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <Button type="submit" variant="primary" busy={busy}>
            {mode === 'in' ? 'Sign in' : 'Sign up'}
          </Button>
        </form>
        <p className="muted">
          {mode === 'in' ? 'New here?' : 'Already have an account?'}{' '}
          <button type="button" className="linklike" onClick={() => (setMode(mode === 'in' ? 'up' : 'in'), setError(null))}>
            {mode === 'in' ? 'Create an account' : 'Back to sign in'}
          </button>
        </p>
      </div>
    </main>
  );
}
