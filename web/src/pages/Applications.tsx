/** Every application, a form to add one, and consumer-portal links. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { LIVE_MS, useAction, useApi } from '../hooks';
import { Link, navigate } from '../router';
import type { Application } from '../types';
import { ActionError, Async, CopyButton, Empty, Field, PageHeader, Time } from '../components/ui';

function NewApplication({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [uid, setUid] = useState('');
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const a = await act.run(() => api<Application>('POST', '/api/v1/app', { name: name.trim(), uid: uid.trim() || undefined }));
    if (a) {
      onDone();
      navigate(`/app/${enc(a.id)}`);
    }
  };
  return (
    <form className="card inline-form" onSubmit={(e) => void submit(e)} aria-label="New application">
      <Field label="Name" required value={name} onChange={(e) => setName(e.target.value)} error={act.error?.fieldIssue('name')} />
      <Field label="UID (optional)" value={uid} onChange={(e) => setUid(e.target.value)} error={act.error?.fieldIssue('uid')} hint="Your own identifier for this application." />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={act.busy || !name.trim()}>
          Create application
        </button>
      </div>
      {act.error && !act.error.issues.length ? <ActionError error={act.error} /> : null}
    </form>
  );
}

/** Creates a consumer-portal link for one application (or, with `path`, for an ingest source's). */
export function PortalLink({ appId, appName, path }: { appId: string; appName: string; path?: string }) {
  const [readOnly, setReadOnly] = useState(false);
  const [url, setUrl] = useState<string | null>(null);
  const act = useAction();
  const create = async () => {
    const out = await act.run(() => api<{ url: string; token: string }>('POST', path ?? `/api/v1/auth/app-portal-access/${enc(appId)}`, { readOnly }));
    if (out) setUrl(out.url);
  };
  if (act.error?.missingRoute) return <p className="muted">Consumer portal links are not available on this server.</p>;
  return (
    <div className="portal-link">
      <label className="check">
        <input type="checkbox" checked={readOnly} aria-label={`Read-only portal link for ${appName}`} onChange={(e) => setReadOnly(e.target.checked)} /> Read-only
      </label>
      <button type="button" className="btn small" aria-label={`Create portal link for ${appName}`} onClick={() => void create()} disabled={act.busy}>
        Create portal link
      </button>
      {url ? (
        <p className="portal-url">
          <a href={url} target="_blank" rel="noreferrer" data-testid="portal-url">
            Open portal
          </a>{' '}
          <CopyButton text={url} label="Copy link" />
        </p>
      ) : null}
      <ActionError error={act.error} />
    </div>
  );
}

export function Applications() {
  const [iterator, setIterator] = useState<string | undefined>(undefined);
  const [adding, setAdding] = useState(false);
  const list = useApi<ListResponse<Application>>(`/api/v1/app${qs({ limit: 50, iterator })}`, LIVE_MS);
  return (
    <>
      <PageHeader
        title="Applications"
        sub="Each application has its own endpoints, messages and consumers."
        actions={
          <button type="button" className="btn primary" onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
            {adding ? 'Cancel' : 'New application'}
          </button>
        }
      />
      {adding ? <NewApplication onDone={() => setAdding(false)} /> : null}
      <Async state={list}>
        {(page) =>
          page.data.length === 0 && !iterator ? (
            <Empty title="No applications yet">
              <p>Create one here, or with the API: POST /api/v1/app.</p>
            </Empty>
          ) : (
            <>
              <ul className="rows" aria-label="Applications">
                {page.data.map((a) => (
                  <li key={a.id} className="row">
                    <div className="row-main">
                      <Link to={`/app/${enc(a.id)}`} className="row-title">
                        {a.name}
                      </Link>
                      <p className="muted mono">
                        {a.id}
                        {a.uid ? ` · uid ${a.uid}` : ''}
                      </p>
                    </div>
                    <div className="row-side">
                      <span className="muted">
                        created <Time iso={a.createdAt} />
                      </span>
                      <PortalLink appId={a.id} appName={a.name} />
                    </div>
                  </li>
                ))}
              </ul>
              <Pager page={page} iterator={iterator} setIterator={setIterator} />
            </>
          )
        }
      </Async>
    </>
  );
}

/** First page / next page controls for iterator-paged lists. */
export function Pager({ page, iterator, setIterator }: { page: ListResponse<unknown>; iterator: string | undefined; setIterator: (i: string | undefined) => void }) {
  if (page.done && !iterator) return null;
  return (
    <div className="pager">
      <button type="button" className="btn small" disabled={!iterator} onClick={() => setIterator(undefined)}>
        First page
      </button>
      <button type="button" className="btn small" disabled={page.done || !page.iterator} onClick={() => setIterator(page.iterator ?? undefined)}>
        Next page
      </button>
    </div>
  );
}
