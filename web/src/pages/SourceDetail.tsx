/** One source: its URL or schedule, status, endpoints, and requests it rejected (with the reason). */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { LIVE_MS, useAction, useApi } from '../hooks';
import { navigate } from '../router';
import type { Endpoint, IngestLog, IngestSource } from '../types';
import { ActionError, Async, Badge, Body, CopyButton, Empty, Field, Json, PageHeader, Time } from '../components/ui';
import { urlProblem } from './EndpointForm';
import { PortalLink } from './Applications';
import { labelOf, statusOf, StatusValue } from './Sources';

function RejectedLog({ sourceId }: { sourceId: string }) {
  const log = useApi<ListResponse<IngestLog>>(`/ingest/api/v1/source/${enc(sourceId)}/log${qs({ limit: 50 })}`, LIVE_MS);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section className="card" aria-labelledby="log-title">
      <h2 id="log-title">Rejected requests</h2>
      <Async state={log} feature="Source logs">
        {(page) =>
          page.data.length === 0 ? (
            <Empty title="No rejected requests" />
          ) : (
            <ul className="plain" data-testid="rejected">
              {page.data.map((l) => (
                <li key={l.id} className="attempt">
                  <button type="button" className="attempt-head" aria-expanded={open === l.id} onClick={() => setOpen(open === l.id ? null : l.id)}>
                    <Badge tone="bad">{l.status_code}</Badge>
                    <span>{l.error_text}</span>
                    <span className="muted">
                      <Time iso={l.created_at} />
                    </span>
                  </button>
                  {open === l.id ? (
                    <div className="attempt-body">
                      <h4>Headers</h4>
                      <Json value={l.headers} label="Request headers" />
                      <h4>Body</h4>
                      <Body text={l.payload} label="Request body" />
                    </div>
                  ) : null}
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </section>
  );
}

function AddSourceEndpoint({ sourceId, onDone }: { sourceId: string; onDone: () => void }) {
  const [url, setUrl] = useState('');
  const [touched, setTouched] = useState(false);
  const act = useAction();
  const problem = touched ? urlProblem(url) : undefined;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (urlProblem(url)) return;
    const ok = await act.run(() => api('POST', `/ingest/api/v1/source/${enc(sourceId)}/endpoint`, { url: url.trim() }));
    if (ok) {
      setUrl('');
      setTouched(false);
      onDone();
    }
  };
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Add an endpoint to this source">
      <Field
        label="Forward to URL"
        type="url"
        placeholder="https://internal.example.com/hooks/github"
        value={url}
        error={problem ?? act.error?.fieldIssue('url')}
        onChange={(e) => setUrl(e.target.value)}
        onBlur={() => setTouched(url !== '')}
      />
      <div className="form-actions">
        <button type="submit" className="btn" disabled={act.busy}>
          Add endpoint
        </button>
      </div>
      {act.error && !act.error.fieldIssue('url') ? <ActionError error={act.error} /> : null}
    </form>
  );
}

function SourceEndpoints({ sourceId }: { sourceId: string }) {
  const eps = useApi<ListResponse<Endpoint>>(`/ingest/api/v1/source/${enc(sourceId)}/endpoint?limit=50`, LIVE_MS * 2);
  return (
    <section className="card" aria-labelledby="src-eps-title">
      <h2 id="src-eps-title">Forwards to</h2>
      <Async state={eps} feature="Source endpoints">
        {(page) =>
          page.data.length === 0 ? (
            <p className="muted">No endpoints yet. Add one below to forward what this source receives.</p>
          ) : (
            <ul className="plain">
              {page.data.map((e) => (
                <li key={e.id} className="mono">
                  {e.url} {e.disabled ? <Badge tone="bad">Disabled</Badge> : null}
                </li>
              ))}
            </ul>
          )
        }
      </Async>
      {eps.error?.missingRoute ? null : <AddSourceEndpoint sourceId={sourceId} onDone={eps.reload} />}
    </section>
  );
}

export function SourceDetail({ sourceId }: { sourceId: string }) {
  const path = `/ingest/api/v1/source/${enc(sourceId)}`;
  const src = useApi<IngestSource>(path, LIVE_MS);
  const act = useAction();
  const remove = async () => {
    if (!window.confirm('Delete this source? Its URL stops accepting requests.')) return;
    if ((await act.run(() => api('DELETE', path).then(() => true))) === true) navigate('/sources');
  };
  return (
    <Async state={src} feature="Ingest sources">
      {(s) => {
        const status = statusOf(s);
        return (
          <>
            <PageHeader
              title={s.name}
              sub={
                <>
                  <Badge tone="plain">{s.type}</Badge> <span className="mono">{s.id}</span>
                </>
              }
              actions={
                <>
                  <PortalLink appId={s.id} appName={s.name} path={`${path}/dashboard`} />
                  <button type="button" className="btn danger" onClick={() => void remove()} disabled={act.busy}>
                    Delete
                  </button>
                </>
              }
            />
            <ActionError error={act.error} />
            <div className="grid-2">
              <section className="card" aria-labelledby="src-title">
                <h2 id="src-title">Source</h2>
                <dl className="kv">
                  {s.ingestUrl ? (
                    <>
                      <dt>Ingest URL</dt>
                      <dd className="mono break">
                        {s.ingestUrl} <CopyButton text={s.ingestUrl} />
                      </dd>
                    </>
                  ) : null}
                  <dt>Created</dt>
                  <dd>
                    <Time iso={s.createdAt} />
                  </dd>
                </dl>
                {s.config ? (
                  <>
                    <h3>Configuration</h3>
                    <Json value={s.config} label="Configuration" />
                  </>
                ) : null}
              </section>
              <section className="card" aria-labelledby="status-title">
                <h2 id="status-title">Status</h2>
                {status.length === 0 ? (
                  <p className="muted">{s.type === 'poll' || s.type === 'cron' ? 'Not run yet.' : 'Receiving at its URL.'}</p>
                ) : (
                  <dl className="kv" data-testid="source-status">
                    {status.map(([k, v]) => (
                      <div key={k} className="kv-pair">
                        <dt>{labelOf(k)}</dt>
                        <dd>
                          <StatusValue k={k} v={v} />
                        </dd>
                      </div>
                    ))}
                  </dl>
                )}
              </section>
            </div>
            <SourceEndpoints sourceId={s.id} />
            {s.type !== 'poll' && s.type !== 'cron' ? <RejectedLog sourceId={s.id} /> : null}
          </>
        );
      }}
    </Async>
  );
}
