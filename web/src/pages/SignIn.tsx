/** Operator sign-in: paste the admin token or an API key; it stays in this tab only. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Field } from '../components/ui';

export function SignIn({ onToken, error }: { onToken: (t: string) => void; error?: string | undefined }) {
  const [token, setToken] = useState('');
  const [missing, setMissing] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setMissing(true);
    onToken(t);
  };
  return (
    <main className="center signin" id="main">
      <h1>
        <span className="logo" aria-hidden="true" /> Switchboard
      </h1>
      <form onSubmit={submit} className="card" aria-labelledby="signin-title">
        <h2 id="signin-title">Sign in</h2>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <Field
          label="Admin token or API key"
          type="password"
          autoComplete="off"
          autoFocus
          value={token}
          error={missing ? 'Paste a token to sign in.' : undefined}
          hint="The admin token is printed on first start and kept in the data directory (admin-token). It is kept in this browser tab only."
          onChange={(e) => {
            setToken(e.target.value);
            setMissing(false);
          }}
        />
        <button type="submit" className="btn primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
