/** Polling endpoints: consumers read messages over HTTP instead of receiving webhooks. */
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { api, ApiError, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { useSession } from '../context';
import { LIVE_MS, useAction, useApi } from '../hooks';
import type { PolledMessage, PollingEndpoint } from '../types';
import { ActionError, Async, CopyButton, Empty, ErrorBox, Field, PageHeader, Time } from '../components/ui';
import { EventTypePicker } from './EventTypePicker';

const TAIL_MAX = 50;

/** Reads the polling endpoint continuously (long polling) and shows what arrives. */
function LiveTail({ appId, pollerId }: { appId: string; pollerId: string }) {
  const [items, setItems] = useState<PolledMessage[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    let iterator: string | undefined;
    const path = `/api/v1/app/${enc(appId)}/poller/${enc(pollerId)}`;
    const loop = async () => {
      const after = new Date(Date.now() - 3600_000).toISOString();
      while (!ctl.signal.aborted) {
        try {
          const started = Date.now();
          const page = await api<{ data: PolledMessage[]; iterator: string; done: boolean }>(
            'GET',
            path + qs({ limit: 50, iterator, after: iterator ? undefined : after, wait: 20 }),
            undefined,
            undefined,
            ctl.signal,
          );
          iterator = page.iterator || iterator;
          setError(null);
          if (page.data.length) setItems((old) => [...page.data.slice().reverse(), ...old].slice(0, TAIL_MAX));
          // A server without long polling answers at once: pace the loop instead.
          if (page.done && Date.now() - started < 1000) await sleep(LIVE_MS, ctl.signal);
        } catch (e) {
          if (ctl.signal.aborted) return;
          setError(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
          await sleep(LIVE_MS * 2, ctl.signal);
        }
      }
    };
    void loop();
    return () => ctl.abort();
  }, [appId, pollerId]);
  return (
    <div className="tail" role="region" aria-live="polite" aria-label="Live tail">
      {error ? <ErrorBox error={error} /> : null}
      {items.length === 0 ? (
        <p className="muted">
          <span className="pulse" aria-hidden="true" /> Waiting for messages…
        </p>
      ) : (
        <ol className="plain">
          {items.map((m) => (
            <li key={m.id} className="tail-item">
              <span className="mono">{m.eventType}</span> <span className="mono muted">{m.id}</span> <Time iso={m.timestamp} />
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = window.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      window.clearTimeout(t);
      resolve();
    });
  });
}

function Token({ appId, pollerId }: { appId: string; pollerId: string }) {
  const { canWrite } = useSession();
  const path = `/api/v1/auth/app/${enc(appId)}/poller/${enc(pollerId)}/token`;
  const [token, setToken] = useState<string | null>(null);
  const act = useAction();
  const show = async () => {
    const t = await act.run(() => api<{ token: string }>('GET', path));
    if (t) setToken(t.token);
  };
  const rotate = async () => {
    if (!window.confirm('Rotate the token? Consumers using the old one must switch.')) return;
    const t = await act.run(() => api<{ token: string }>('POST', `${path}/rotate`, {}));
    if (t) setToken(t.token);
  };
  return (
    <div className="secret">
      <code className="mono">{token ?? '•'.repeat(24)}</code>
      {token ? (
        <CopyButton text={token} />
      ) : (
        <button type="button" className="btn small" onClick={() => void show()} disabled={act.busy}>
          Show token
        </button>
      )}
      {canWrite ? (
        <button type="button" className="btn small" onClick={() => void rotate()} disabled={act.busy}>
          Rotate
        </button>
      ) : null}
      <ActionError error={act.error} />
    </div>
  );
}

function PollerCard({ appId, p }: { appId: string; p: PollingEndpoint }) {
  const [tail, setTail] = useState(false);
  const url = `${window.location.origin}/api/v1/app/${enc(appId)}/poller/${enc(p.id)}`;
  return (
    <li className="card">
      <h3 className="mono">{p.uid ?? p.id}</h3>
      {p.description ? <p>{p.description}</p> : null}
      <dl className="kv">
        <dt>Poll URL</dt>
        <dd className="mono break">
          {url} <CopyButton text={url} />
        </dd>
        <dt>Token</dt>
        <dd>
          <Token appId={appId} pollerId={p.id} />
        </dd>
        <dt>Event types</dt>
        <dd>{p.filterTypes?.length ? p.filterTypes.join(', ') : 'all'}</dd>
      </dl>
      <button type="button" className="btn small" aria-expanded={tail} onClick={() => setTail((t) => !t)}>
        {tail ? 'Stop live tail' : 'Live tail'}
      </button>
      {tail ? <LiveTail appId={appId} pollerId={p.id} /> : null}
    </li>
  );
}

function NewPoller({ appId, onDone }: { appId: string; onDone: () => void }) {
  const [description, setDescription] = useState('');
  const [uid, setUid] = useState('');
  const [types, setTypes] = useState<string[]>([]);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const done = await act.run(() =>
      api('POST', `/api/v1/app/${enc(appId)}/polling-endpoint`, { description, uid: uid.trim() || undefined, filterTypes: types.length ? types : undefined }),
    );
    if (done) onDone();
  };
  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="New polling endpoint">
      <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <Field label="UID (optional)" value={uid} onChange={(e) => setUid(e.target.value)} error={act.error?.fieldIssue('uid')} />
      <EventTypePicker value={types} onChange={setTypes} />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={act.busy}>
          Create polling endpoint
        </button>
      </div>
      <ActionError error={act.error} />
    </form>
  );
}

export function Pollers({ appId }: { appId: string }) {
  const { canWrite } = useSession();
  const [adding, setAdding] = useState(false);
  const list = useApi<ListResponse<PollingEndpoint>>(`/api/v1/app/${enc(appId)}/polling-endpoint?limit=50`, LIVE_MS * 3);
  const available = !list.error?.missingRoute;
  return (
    <>
      <PageHeader
        title="Polling endpoints"
        sub="Consumers without a public URL read this application's messages by polling, with a token that can do nothing else."
        actions={
          canWrite && available ? (
            <button type="button" className="btn primary" aria-expanded={adding} onClick={() => setAdding((a) => !a)}>
              {adding ? 'Cancel' : 'New polling endpoint'}
            </button>
          ) : null
        }
      />
      {adding ? (
        <NewPoller
          appId={appId}
          onDone={() => {
            setAdding(false);
            list.reload();
          }}
        />
      ) : null}
      <Async state={list} feature="Polling endpoints">
        {(page) =>
          page.data.length === 0 ? (
            <Empty title="No polling endpoints yet" />
          ) : (
            <ul className="plain cards">
              {page.data.map((p) => (
                <PollerCard key={p.id} appId={appId} p={p} />
              ))}
            </ul>
          )
        }
      </Async>
    </>
  );
}
