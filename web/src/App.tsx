/** Session bootstrap (token -> scope), sign-in, and the page routes. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError, onUnauthorized } from './api';
import { SessionContext } from './context';
import type { SessionValue } from './context';
import { clearToken, mode, readToken, saveToken } from './session';
import type { Scope } from './session';
import { Layout } from './components/Layout';
import { ErrorBox, Loading } from './components/ui';
import { Routes } from './Routes';
import { SignIn } from './pages/SignIn';

interface SessionOut {
  kind: 'admin' | 'app' | 'poller';
  appId?: string;
  scopes?: string[];
}

/** Asks the server what the token may do. */
async function resolveScope(token: string): Promise<Scope> {
  const s = await api<SessionOut>('GET', '/api/v1/ui/session', undefined, token);
  if (s.kind === 'admin') return { kind: 'admin' };
  if (s.kind === 'app' && s.appId) {
    const scopes = new Set(s.scopes ?? []);
    return { kind: 'app', appId: s.appId, canWrite: scopes.has('write'), canPublish: scopes.has('write') || scopes.has('publish') };
  }
  throw new ApiError(403, 'forbidden', 'this token cannot open the dashboard (it only reads a polling endpoint)');
}

type State = { kind: 'signed-out'; error?: string } | { kind: 'checking' } | { kind: 'failed'; error: ApiError } | { kind: 'in'; scope: Scope };

export function App() {
  const [state, setState] = useState<State>(() => (readToken() ? { kind: 'checking' } : { kind: 'signed-out' }));

  const check = useCallback((token: string) => {
    setState({ kind: 'checking' });
    resolveScope(token).then(
      (scope) => setState({ kind: 'in', scope }),
      (e: unknown) => {
        const err = e instanceof ApiError ? e : new ApiError(0, 'error', String(e));
        if (err.status === 401 || err.status === 403) {
          clearToken();
          setState({ kind: 'signed-out', error: err.status === 401 ? 'That token is not valid or has expired.' : err.message });
        } else setState({ kind: 'failed', error: err });
      },
    );
  }, []);

  useEffect(() => {
    const t = readToken();
    if (t) check(t);
  }, [check]);

  const signOut = useCallback(() => {
    // A portal token is ended on the server too; an operator's key stays valid.
    if (mode === 'portal') void api('POST', '/api/v1/auth/logout').catch(() => undefined);
    clearToken();
    setState({ kind: 'signed-out' });
  }, []);

  useEffect(
    () =>
      onUnauthorized(() => {
        clearToken();
        setState({ kind: 'signed-out', error: 'Your session has expired or the token was revoked. Sign in again.' });
      }),
    [],
  );

  const session = useMemo<SessionValue | null>(() => {
    if (state.kind !== 'in') return null;
    const canWrite = state.scope.kind === 'admin' || state.scope.canWrite;
    return { scope: state.scope, canWrite, signOut };
  }, [state, signOut]);

  if (state.kind === 'checking') return <Loading what="Signing in" />;
  if (state.kind === 'failed')
    return (
      <main className="center">
        <ErrorBox error={state.error} retry={() => check(readToken() ?? '')} />
      </main>
    );
  if (state.kind === 'signed-out' || !session) {
    if (mode === 'portal') {
      return (
        <main className="center signin">
          <h1>Webhook portal</h1>
          <p role="alert">{state.kind === 'signed-out' && state.error ? state.error : 'Open this page with the link you were given.'}</p>
          <p className="muted">Portal links expire; ask for a new one if yours no longer works.</p>
        </main>
      );
    }
    return (
      <SignIn
        error={state.kind === 'signed-out' ? state.error : undefined}
        onToken={(t) => {
          saveToken(t);
          check(t);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Layout>
        <Routes />
      </Layout>
    </SessionContext.Provider>
  );
}
