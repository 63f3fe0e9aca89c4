/**
 * One stream: its sinks with type, destination (credentials masked by the server), status in
 * colour with the failure reason and next retry, position and batch settings; each sink's
 * recent delivery attempts; enable/disable and replay from a time.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { LIVE_MS, useAction, useApi } from '../hooks';
import { Link, navigate } from '../router';
import type { Sink, SinkAttempt, Stream } from '../types';
import { ActionError, Async, Badge, Empty, Field, PageHeader, Time } from '../components/ui';

/** A sink's real type: extension sinks are shown to SDKs as http. */
export const sinkTypeOf = (s: Sink): string => s.extension?.type ?? s.type;

/** Where a sink delivers: its URI, exchange, and routing key, stream key, subject or topic. */
export function destinationOf(s: Sink): string {
  const c = s.extension?.config ?? s.config ?? {};
  const parts = [c.url ?? c.uri, typeof c.exchange === 'string' && c.exchange ? `exchange ${c.exchange}` : undefined, c.routingKey ?? c.streamKey ?? c.subject ?? c.topic];
  const where = parts.filter((v): v is string => typeof v === 'string' && v !== '');
  return where.length ? where.join(' · ') : sinkTypeOf(s) === 'poller' ? 'read by pollers' : '—';
}

const TONES: Record<Sink['status'], 'ok' | 'warn' | 'bad' | 'plain'> = { enabled: 'ok', retrying: 'warn', paused: 'plain', disabled: 'bad' };

function SinkAttempts({ streamId, sinkId }: { streamId: string; sinkId: string }) {
  const attempts = useApi<ListResponse<SinkAttempt>>(`/api/v1/stream/${enc(streamId)}/sink/${enc(sinkId)}/attempt${qs({ limit: 10 })}`, LIVE_MS);
  return (
    <Async state={attempts} feature="Sink attempts">
      {(page) =>
        page.data.length === 0 ? (
          <p className="muted">No delivery attempts yet.</p>
        ) : (
          <table className="table" aria-label="Recent attempts">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Outcome</th>
                <th scope="col">Events</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Time iso={a.createdAt} />
                  </td>
                  <td>
                    <Badge tone={a.outcome === 'success' ? 'ok' : 'bad'}>{a.outcome}</Badge>
                    {a.responseStatus ? <span className="muted"> {a.responseStatus}</span> : null}
                  </td>
                  <td>{a.count}</td>
                  <td className="bad-text">{a.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </Async>
  );
}

function ReplayForm({ path, onDone }: { path: string; onDone: (iterator: string) => void }) {
  const [since, setSince] = useState('');
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = Date.parse(since);
    const r = await act.run(() => api<{ currentIterator: string }>('POST', `${path}/replay`, { since: Number.isNaN(t) ? since : new Date(t).toISOString() }));
    if (r) onDone(r.currentIterator);
  };
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} aria-label="Replay from a time">
      <Field label="Replay from" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} hint="Events at or after this time are delivered again." />
      <div className="form-actions">
        <button type="submit" className="btn small" disabled={act.busy || !since}>
          Replay
        </button>
      </div>
      <ActionError error={act.error} />
    </form>
  );
}

export function SinkCard({ streamId, sink, onChange }: { streamId: string; sink: Sink; onChange: () => void }) {
  const path = `/api/v1/stream/${enc(streamId)}/sink/${enc(sink.id)}`;
  const act = useAction();
  const [replayed, setReplayed] = useState<string | null>(null);
  const type = sinkTypeOf(sink);
  const setStatus = async (status: 'enabled' | 'disabled') => {
    if ((await act.run(() => api('PATCH', path, { status }))) !== undefined) onChange();
  };
  return (
    <section className="card" aria-label={`Sink ${sink.id}`} data-testid="sink">
      <h3>
        <Badge tone="plain">{type}</Badge> <span className="mono">{sink.id}</span>{' '}
        <Badge tone={TONES[sink.status] ?? 'info'}>{sink.status}</Badge>
      </h3>
      <dl className="kv">
        <dt>Destination</dt>
        <dd className="mono break" data-testid="destination">
          {destinationOf(sink)}
        </dd>
        {sink.failureReason ? (
          <>
            <dt>Failure</dt>
            <dd className="bad-text" data-testid="failure">
              {sink.failureReason}
            </dd>
          </>
        ) : null}
        {sink.nextRetryAt ? (
          <>
            <dt>Next retry</dt>
            <dd>
              <Time iso={sink.nextRetryAt} />
            </dd>
          </>
        ) : null}
        <dt>Position</dt>
        <dd className="mono">{sink.currentIterator}</dd>
        <dt>Batches</dt>
        <dd>
          up to {sink.batchSize} event{sink.batchSize === 1 ? '' : 's'}, waiting at most {sink.maxWaitSecs} s
        </dd>
        <dt>Event types</dt>
        <dd>{sink.eventTypes?.length ? sink.eventTypes.join(', ') : 'all'}</dd>
      </dl>
      <div className="form-actions">
        {sink.status === 'disabled' ? (
          <button type="button" className="btn small" onClick={() => void setStatus('enabled')} disabled={act.busy}>
            Enable
          </button>
        ) : (
          <button type="button" className="btn small" onClick={() => void setStatus('disabled')} disabled={act.busy}>
            Disable
          </button>
        )}
      </div>
      <ActionError error={act.error} />
      <ReplayForm
        path={path}
        onDone={(it) => {
          setReplayed(it);
          onChange();
        }}
      />
      {replayed !== null ? <p role="status">Moved back to position {replayed}.</p> : null}
      <h4>Recent attempts</h4>
      {type === 'poller' ? <p className="muted">Pollers read events themselves; nothing is pushed.</p> : <SinkAttempts streamId={streamId} sinkId={sink.id} />}
    </section>
  );
}

export function StreamDetail({ streamId }: { streamId: string }) {
  const path = `/api/v1/stream/${enc(streamId)}`;
  const stream = useApi<Stream>(path, 0);
  const sinks = useApi<ListResponse<Sink>>(`${path}/sink${qs({ limit: 50 })}`, LIVE_MS);
  const act = useAction();
  const remove = async () => {
    if (!window.confirm('Delete this stream, its sinks and its events?')) return;
    if ((await act.run(() => api('DELETE', path).then(() => true))) === true) navigate('/streams');
  };
  return (
    <Async state={stream} feature="Streams">
      {(s) => (
        <>
          <p className="muted">
            <Link to="/streams">Streams</Link> /
          </p>
          <PageHeader
            title={s.name || s.uid || s.id}
            sub={<span className="mono">{s.id}</span>}
            actions={
              <button type="button" className="btn danger" onClick={() => void remove()} disabled={act.busy}>
                Delete
              </button>
            }
          />
          <ActionError error={act.error} />
          <h2>Sinks</h2>
          <Async state={sinks} feature="Sinks">
            {(page) =>
              page.data.length === 0 ? (
                <Empty title="No sinks yet">
                  <p>Add one with `switchboard streams sinks create` or POST {path}/sink.</p>
                </Empty>
              ) : (
                <div data-testid="sinks">
                  {page.data.map((k) => (
                    <SinkCard key={k.id} streamId={s.id} sink={k} onChange={sinks.reload} />
                  ))}
                </div>
              )
            }
          </Async>
        </>
      )}
    </Async>
  );
}
