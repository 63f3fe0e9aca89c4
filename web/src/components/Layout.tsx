/** The page frame: skip link, header with navigation, and the application's tabs. */
import type { ReactNode } from 'react';
import { enc } from '../api';
import { useSession } from '../context';
import { useApi } from '../hooks';
import { Link, useLocation } from '../router';
import { mode } from '../session';
import type { Application } from '../types';
import { Badge } from './ui';

function NavLink({ to, children, exact = false }: { to: string; children: ReactNode; exact?: boolean }) {
  const loc = useLocation().split('?')[0]!;
  const active = exact ? loc === to : loc === to || loc.startsWith(to + '/');
  return (
    <Link to={to} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function AppTabs({ appId }: { appId: string }) {
  const { scope } = useSession();
  const app = useApi<Application>(scope.kind === 'app' && scope.appId !== appId ? null : `/api/v1/app/${enc(appId)}`);
  const p = `/app/${enc(appId)}`;
  return (
    <div className="app-bar">
      <p className="app-name">
        {scope.kind === 'admin' ? (
          <>
            <Link to="/">Applications</Link> <span aria-hidden="true">/</span>{' '}
          </>
        ) : null}
        <strong>{app.data?.name ?? (app.error ? 'Unknown application' : '…')}</strong>
      </p>
      <nav aria-label="Application" className="tabs">
        <NavLink to={p} exact>
          Overview
        </NavLink>
        <NavLink to={`${p}/endpoints`}>Endpoints</NavLink>
        <NavLink to={`${p}/messages`}>Messages</NavLink>
        <NavLink to={`${p}/pollers`}>Polling endpoints</NavLink>
      </nav>
    </div>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { scope, canWrite, signOut } = useSession();
  const loc = useLocation();
  const appMatch = /^\/app\/([^/?]+)/.exec(loc);
  const appId = appMatch ? decodeURIComponent(appMatch[1]!) : null;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to={scope.kind === 'app' ? `/app/${enc(scope.appId)}` : '/'} className="brand">
          <span className="logo" aria-hidden="true" /> Switchboard{mode === 'portal' ? <span className="brand-sub"> webhooks portal</span> : null}
        </Link>
        <nav aria-label="Main" className="main-nav">
          {scope.kind === 'admin' ? (
            <>
              <NavLink to="/" exact>
                Applications
              </NavLink>
              <NavLink to="/event-types">Event types</NavLink>
              <NavLink to="/sources">Sources</NavLink>
              <NavLink to="/tasks">Tasks</NavLink>
              <NavLink to="/streams">Streams</NavLink>
            </>
          ) : (
            <NavLink to="/event-types">Event types</NavLink>
          )}
        </nav>
        <div className="who">
          {!canWrite ? <Badge tone="warn">Read-only</Badge> : null}
          <Badge tone="plain">{scope.kind === 'admin' ? 'Admin' : mode === 'portal' ? 'Portal' : 'App key'}</Badge>
          <button type="button" className="btn small ghost" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      {appId ? <AppTabs appId={appId} /> : null}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
