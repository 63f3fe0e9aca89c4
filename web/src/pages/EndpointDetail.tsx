/** One endpoint: settings, health, circuit breakers, signing secret, test event, recovery and its latest attempts. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { useSession } from '../context';
import { LIVE_MS, useAction, useApi } from '../hooks';
import { Link, navigate } from '../router';
import type { Attempt, CircuitState, Endpoint, EndpointCircuit, EndpointStats, EventType, Message } from '../types';
import { failureReason } from '../attempts';
import { ActionError, Async, Badge, CopyButton, Empty, Field, Notice, PageHeader, Select, StatusBadge, Time } from '../components/ui';

function Secret({ path }: { path: string }) {
  const { canWrite } = useSession();
  const [secret, setSecret] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const act = useAction();
  const reveal = async () => {
    const s = await act.run(() => api<{ key: string }>('GET', `${path}/secret`));
    if (s) setSecret(s.key);
  };
  const rotate = async () => {
    if (!window.confirm('Rotate the signing secret? The old secret keeps signing for 24 hours so receivers can switch.')) return;
    const ok = await act.run(async () => {
      await api('POST', `${path}/secret/rotate`, {});
      return true;
    });
    if (ok) {
      setNote('Secret rotated. The previous secret stays valid for 24 hours.');
      if (secret !== null) await reveal();
    }
  };
  return (
    <section className="card" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p className="hint">Receivers verify each request's webhook-signature header with this secret.</p>
      <div className="secret">
        <code data-testid="secret" className="mono">
          {secret ?? 'whsec_' + '•'.repeat(24)}
        </code>
        {secret === null ? (
          <button type="button" className="btn small" onClick={() => void reveal()} disabled={act.busy}>
            Reveal
          </button>
        ) : (
          <>
            <button type="button" className="btn small" onClick={() => setSecret(null)}>
              Hide
            </button>
            <CopyButton text={secret} />
          </>
        )}
        {canWrite ? (
          <button type="button" className="btn small" onClick={() => void rotate()} disabled={act.busy}>
            Rotate
          </button>
        ) : null}
      </div>
      {note ? <Notice>{note}</Notice> : null}
      <ActionError error={act.error} />
    </section>
  );
}

function SendTest({ path, ep, appId }: { path: string; ep: Endpoint; appId: string }) {
  const types = useApi<ListResponse<EventType>>('/api/v1/event-type?limit=250&with_content=true');
  const [eventType, setEventType] = useState('svix.ping');
  const [sent, setSent] = useState<Message | null>(null);
  const act = useAction();
  const withExample = (types.data?.data ?? []).filter((t) => {
    if (t.archived) return false;
    if (ep.filterTypes?.length && !ep.filterTypes.includes(t.name)) return false;
    const s = Object.values(t.schemas ?? {}).pop() as { examples?: unknown[]; example?: unknown } | undefined;
    return Boolean(s?.examples?.length || s?.example);
  });
  const send = async (e: FormEvent) => {
    e.preventDefault();
    const m = await act.run(() => api<Message>('POST', `${path}/send-example`, { eventType }));
    if (m) setSent(m);
  };
  return (
    <section className="card" aria-labelledby="test-title">
      <h2 id="test-title">Send a test event</h2>
      <form onSubmit={(e) => void send(e)} className="inline-form">
        <Select label="Event type" value={eventType} onChange={(e) => setEventType(e.target.value)}>
          <option value="svix.ping">svix.ping (a ping)</option>
          {withExample.map((t) => (
            <option key={t.name} value={t.name}>
              {t.name} (its schema's example)
            </option>
          ))}
        </Select>
        <div className="form-actions">
          <button type="submit" className="btn" disabled={act.busy || ep.disabled}>
            Send test event
          </button>
        </div>
      </form>
      {ep.disabled ? <p className="hint">Enable the endpoint to send it a test event.</p> : null}
      {sent ? (
        <Notice>
          Sent <Link to={`/app/${enc(appId)}/messages/${enc(sent.id)}`}>{sent.id}</Link>; its attempt appears below.
        </Notice>
      ) : null}
      <ActionError error={act.error} />
    </section>
  );
}

function Recover({ path }: { path: string }) {
  const [since, setSince] = useState(() => toLocalInput(Date.now() - 86_400_000));
  const [note, setNote] = useState<string | null>(null);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = Date.parse(since);
    if (Number.isNaN(t)) return;
    const ok = await act.run(() => api('POST', `${path}/recover`, { since: new Date(t).toISOString() }));
    if (ok !== undefined) setNote(`Failed messages since ${new Date(t).toLocaleString()} are being sent again.`);
  };
  return (
    <section className="card" aria-labelledby="recover-title">
      <h2 id="recover-title">Recover failed messages</h2>
      <form onSubmit={(e) => void submit(e)} className="inline-form">
        <Field label="Failed since" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} required />
        <div className="form-actions">
          <button type="submit" className="btn" disabled={act.busy}>
            Recover
          </button>
        </div>
      </form>
      {note ? <Notice>{note}</Notice> : null}
      <ActionError error={act.error} />
    </section>
  );
}

/** A value for a datetime-local input, in local time. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function Attempts({ appId, epId }: { appId: string; epId: string }) {
  const list = useApi<ListResponse<Attempt>>(`/api/v1/app/${enc(appId)}/attempt/endpoint/${enc(epId)}${qs({ limit: 20 })}`, LIVE_MS);
  return (
    <section className="card" aria-labelledby="attempts-title">
      <h2 id="attempts-title">Latest attempts</h2>
      <Async state={list}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty title="No attempts yet">
              <p>Send a test event to see one here.</p>
            </Empty>
          ) : (
            <div className="table-wrap">
              <table data-testid="endpoint-attempts">
                <thead>
                  <tr>
                    <th scope="col">Status</th>
                    <th scope="col">Code</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Message</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((a) => (
                    <tr key={a.id}>
                      <td>
                        <StatusBadge status={a.status} />
                      </td>
                      <td>{a.responseStatusCode || '—'}</td>
                      <td className="reason" data-testid="attempt-reason">
                        {a.status === 2 ? <span className="bad-text">{failureReason(a)}</span> : <span className="muted">—</span>}
                      </td>
                      <td>{a.responseDurationMs} ms</td>
                      <td>
                        <Link to={`/app/${enc(appId)}/messages/${enc(a.msgId)}`} className="mono">
                          {a.msgId}
                        </Link>
                        {a.status === 2 ? (
                          <>
                            {' '}
                            <Link to={`/app/${enc(appId)}/messages/${enc(a.msgId)}`} className="btn small" data-testid="attempt-resend-link">
                              Resend…
                            </Link>
                          </>
                        ) : null}
                      </td>
                      <td>
                        <Time iso={a.timestamp} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </section>
  );
}

function StatsLine({ path }: { path: string }) {
  const stats = useApi<EndpointStats>(`${path}/stats`, LIVE_MS);
  if (!stats.data) return null;
  const s = stats.data;
  return (
    <dl className="figures compact">
      <div>
        <dt>Succeeded</dt>
        <dd>{s.success}</dd>
      </div>
      <div>
        <dt>Failed</dt>
        <dd className={s.fail ? 'bad-text' : undefined}>{s.fail}</dd>
      </div>
      <div>
        <dt>Pending</dt>
        <dd>{s.pending + s.sending}</dd>
      </div>
    </dl>
  );
}

const CIRCUIT_TONE = { closed: 'ok', open: 'bad', 'half-open': 'warn' } as const;

function CircuitRow({ label, c }: { label: string; c: CircuitState }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>
        <Badge tone={CIRCUIT_TONE[c.state]}>{c.state}</Badge>{' '}
        {c.consecutiveFailures > 0 ? <span className="muted">{c.consecutiveFailures} failed in a row</span> : null}
        {c.openedAt ? (
          <>
            {' '}
            <span className="muted">opened</span> <Time iso={c.openedAt} />
          </>
        ) : null}
        {c.nextProbeAt ? (
          <>
            {' '}
            <span className="muted">next probe</span> <Time iso={c.nextProbeAt} />
          </>
        ) : null}
      </dd>
    </>
  );
}

/** The endpoint's circuit breakers on the node that answered: while one is open, deliveries wait. */
function Circuit({ path }: { path: string }) {
  const circuit = useApi<EndpointCircuit>(`${path}/circuit`, LIVE_MS);
  if (!circuit.data) return null;
  const c = circuit.data;
  const waiting = c.endpoint.state !== 'closed' || (c.origin !== null && c.origin.state !== 'closed');
  return (
    <section className="card" aria-labelledby="circuit-title" data-testid="endpoint-circuit">
      <h2 id="circuit-title">Circuit breaker</h2>
      <p className="hint">
        {waiting
          ? 'Deliveries wait without using attempts until a probe delivery succeeds.'
          : 'Deliveries are sent. After repeated failures (connection errors, timeouts, 5xx) the circuit opens and deliveries wait.'}
      </p>
      <dl className="kv">
        <CircuitRow label="Endpoint" c={c.endpoint} />
        {c.origin ? <CircuitRow label={c.origin.origin} c={c.origin} /> : null}
      </dl>
    </section>
  );
}

export function EndpointDetail({ appId, epId }: { appId: string; epId: string }) {
  const { canWrite } = useSession();
  const path = `/api/v1/app/${enc(appId)}/endpoint/${enc(epId)}`;
  const ep = useApi<Endpoint>(path, LIVE_MS);
  const headers = useApi<{ headers: Record<string, string>; sensitive: string[] }>(`${path}/headers`);
  const act = useAction();
  const setDisabled = async (disabled: boolean) => {
    if (await act.run(() => api('PATCH', path, { disabled }))) ep.reload();
  };
  const remove = async () => {
    if (!window.confirm('Delete this endpoint? Its delivery history is kept, but it receives nothing more.')) return;
    const done = await act.run(async () => {
      await api('DELETE', path);
      return true;
    });
    if (done) navigate(`/app/${enc(appId)}/endpoints`);
  };
  return (
    <Async state={ep}>
      {(e) => (
        <>
          <PageHeader
            title={<span className="url">{e.url}</span>}
            sub={
              <>
                <span className="mono">{e.id}</span> {e.disabled ? <Badge tone="bad">Disabled</Badge> : <Badge tone="ok">Enabled</Badge>}
              </>
            }
            actions={
              canWrite ? (
                <>
                  <Link to={`/app/${enc(appId)}/endpoints/${enc(e.id)}/edit`} className="btn">
                    Edit
                  </Link>
                  <button type="button" className="btn" onClick={() => void setDisabled(!e.disabled)} disabled={act.busy}>
                    {e.disabled ? 'Enable' : 'Disable'}
                  </button>
                  <button type="button" className="btn danger" onClick={() => void remove()} disabled={act.busy}>
                    Delete
                  </button>
                </>
              ) : null
            }
          />
          <ActionError error={act.error} />
          <StatsLine path={path} />
          <Circuit path={path} />
          <div className="grid-2">
            <section className="card" aria-labelledby="settings-title">
              <h2 id="settings-title">Settings</h2>
              <dl className="kv">
                <dt>Description</dt>
                <dd>{e.description || <span className="muted">none</span>}</dd>
                <dt>Event types</dt>
                <dd>{e.filterTypes?.length ? e.filterTypes.map((t) => <Badge key={t} tone="plain">{t}</Badge>) : 'all'}</dd>
                <dt>Channels</dt>
                <dd>{e.channels?.length ? e.channels.join(', ') : 'all'}</dd>
                <dt>Rate limit</dt>
                <dd>{e.rateLimit ? `${e.rateLimit} per second` : 'none'}</dd>
                <dt>Custom headers</dt>
                <dd>
                  {headers.data && (Object.keys(headers.data.headers).length || headers.data.sensitive.length) ? (
                    <ul className="plain">
                      {Object.entries(headers.data.headers).map(([k, v]) => (
                        <li key={k} className="mono">
                          {k}: {v}
                        </li>
                      ))}
                      {headers.data.sensitive.map((k) => (
                        <li key={k} className="mono">
                          {k}: <span className="muted">(hidden)</span>
                        </li>
                      ))}
                    </ul>
                  ) : (
                    'none'
                  )}
                </dd>
                <dt>Created</dt>
                <dd>
                  <Time iso={e.createdAt} />
                </dd>
              </dl>
            </section>
            <Secret path={path} />
          </div>
          {canWrite ? (
            <div className="grid-2">
              <SendTest path={path} ep={e} appId={appId} />
              <Recover path={path} />
            </div>
          ) : null}
          <Attempts appId={appId} epId={e.id} />
        </>
      )}
    </Async>
  );
}
