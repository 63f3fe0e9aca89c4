/** Streams: ordered event logs delivered to sinks (brokers, HTTP, pollers), and a form to add one. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { LIVE_MS, useAction, useApi } from '../hooks';
import { Link, navigate } from '../router';
import type { Stream } from '../types';
import { ActionError, Async, Empty, Field, PageHeader, Time } from '../components/ui';
import { Pager } from './Applications';

function NewStream({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [uid, setUid] = useState('');
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const s = await act.run(() => api<Stream>('POST', '/api/v1/stream', { name: name.trim(), uid: uid.trim() || undefined }));
    if (s) {
      onDone();
      navigate(`/streams/${enc(s.id)}`);
    }
  };
  return (
    <form className="card inline-form" onSubmit={(e) => void submit(e)} aria-label="New stream">
      <Field label="Name" required value={name} onChange={(e) => setName(e.target.value)} error={act.error?.fieldIssue('name')} />
      <Field label="UID (optional)" value={uid} onChange={(e) => setUid(e.target.value)} error={act.error?.fieldIssue('uid')} hint="Your own identifier for this stream." />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={act.busy || !name.trim()}>
          Create stream
        </button>
      </div>
      {act.error && !act.error.issues.length ? <ActionError error={act.error} /> : null}
    </form>
  );
}

export function Streams() {
  const [iterator, setIterator] = useState<string | undefined>(undefined);
  const [adding, setAdding] = useState(false);
  const list = useApi<ListResponse<Stream>>(`/api/v1/stream${qs({ limit: 50, iterator })}`, LIVE_MS);
  return (
    <>
      <PageHeader
        title="Streams"
        sub="Ordered event logs, each delivered to its sinks: RabbitMQ, Redis, NATS JetStream, MQTT, HTTP, or read by pollers."
        actions={
          list.error?.missingRoute ? null : (
            <button type="button" className="btn primary" onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
              {adding ? 'Cancel' : 'New stream'}
            </button>
          )
        }
      />
      {adding ? <NewStream onDone={() => setAdding(false)} /> : null}
      <Async state={list} feature="Streams">
        {(page) =>
          page.data.length === 0 && !iterator ? (
            <Empty title="No streams yet">
              <p>Create one here, with `switchboard streams create`, or with the API: POST /api/v1/stream.</p>
            </Empty>
          ) : (
            <>
              <ul className="rows" aria-label="Streams">
                {page.data.map((s) => (
                  <li key={s.id} className="row">
                    <div className="row-main">
                      <Link to={`/streams/${enc(s.id)}`} className="row-title">
                        {s.name || s.uid || s.id}
                      </Link>
                      <p className="muted mono">
                        {s.id}
                        {s.uid ? ` · uid ${s.uid}` : ''}
                      </p>
                    </div>
                    <div className="row-side">
                      <span className="muted">
                        created <Time iso={s.createdAt} />
                      </span>
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
