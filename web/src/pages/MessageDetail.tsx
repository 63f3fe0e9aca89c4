/** One message: its payload, each endpoint's delivery with every attempt (request and response), and resend. */
import { useState } from 'react';
import { api, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { useSession } from '../context';
import { LIVE_MS, useAction, useApi } from '../hooks';
import { Link } from '../router';
import { failureReason } from '../attempts';
import type { Attempt, Destination, Message } from '../types';
import { ActionError, Async, Badge, Body, Empty, Json, Notice, PageHeader, StatusBadge, Time } from '../components/ui';

interface AppInfo {
  headerStyle?: 'standard' | 'svix' | 'both';
}

/**
 * The headers this server sends with an attempt. They are rebuilt from the message, the
 * endpoint's custom headers and the attempt's time: signatures are not stored.
 */
function requestHeaders(a: Attempt, style: AppInfo['headerStyle'], custom: { headers: Record<string, string>; sensitive: string[] } | undefined): [string, string][] {
  const ts = String(Math.floor((Date.parse(a.timestamp) - a.responseDurationMs) / 1000));
  const out: [string, string][] = [['content-type', 'application/json']];
  for (const [k, v] of Object.entries(custom?.headers ?? {})) out.push([k.toLowerCase(), v]);
  for (const k of custom?.sensitive ?? []) out.push([k.toLowerCase(), '(hidden)']);
  for (const prefix of style === 'svix' ? ['svix'] : style === 'both' ? ['webhook', 'svix'] : ['webhook']) {
    out.push([`${prefix}-id`, a.msgId], [`${prefix}-timestamp`, `${ts} (approximately)`], [`${prefix}-signature`, 'v1,… (not stored)']);
  }
  return out;
}

function AttemptView({ a, style, appId }: { a: Attempt; style: AppInfo['headerStyle']; appId: string }) {
  const [open, setOpen] = useState(false);
  const headers = useApi<{ headers: Record<string, string>; sensitive: string[] }>(open ? `/api/v1/app/${enc(appId)}/endpoint/${enc(a.endpointId)}/headers` : null);
  const id = `attempt-${a.id}`;
  return (
    <li className="attempt">
      <button type="button" className="attempt-head" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)}>
        <StatusBadge status={a.status} />
        <span className="mono">{a.responseStatusCode || 'no response'}</span>
        <span>{a.responseDurationMs} ms</span>
        {a.status === 2 ? (
          <span className="bad-text reason" data-testid="attempt-head-reason">
            {failureReason(a)}
          </span>
        ) : null}
        <span>{a.triggerType === 1 ? <Badge tone="plain">manual</Badge> : <Badge tone="plain">scheduled</Badge>}</span>
        <span className="muted">
          <Time iso={a.timestamp} />
        </span>
      </button>
      {open ? (
        <div className="attempt-body" id={id}>
          <h4>Request</h4>
          <p className="mono">POST {a.url}</p>
          <table className="headers" aria-label="Request headers">
            <tbody>
              {requestHeaders(a, style, headers.data).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row" className="mono">
                    {k}
                  </th>
                  <td className="mono">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint">Headers are rebuilt from the message and the endpoint's current settings; signatures are not stored.</p>
          <h4>Response</h4>
          <dl className="kv">
            <dt>Status</dt>
            <dd className="mono" data-testid="attempt-status-code">
              {a.responseStatusCode || 'no response (connection failed or timed out)'}
            </dd>
            <dt>Duration</dt>
            <dd>{a.responseDurationMs} ms</dd>
            <dt>Attempt id</dt>
            <dd className="mono">{a.id}</dd>
          </dl>
          <Body text={a.response} label="Response body" />
        </div>
      ) : null}
    </li>
  );
}

function DestinationView({ d, msgId, appId, style }: { d: Destination; msgId: string; appId: string; style: AppInfo['headerStyle'] }) {
  const { canWrite } = useSession();
  const app = `/api/v1/app/${enc(appId)}`;
  const attempts = useApi<ListResponse<Attempt>>(`${app}/attempt/msg/${enc(msgId)}${qs({ endpoint_id: d.id, limit: 50 })}`, LIVE_MS);
  const act = useAction();
  const [note, setNote] = useState<string | null>(null);
  const resend = async () => {
    const ok = await act.run(() => api('POST', `${app}/msg/${enc(msgId)}/endpoint/${enc(d.id)}/resend`));
    if (ok !== undefined) {
      setNote('Resent; the new attempt appears below.');
      attempts.reload();
    }
  };
  return (
    <section className="card destination" aria-label={`Delivery to ${d.url}`}>
      <div className="destination-head">
        <div>
          <Link to={`/app/${enc(appId)}/endpoints/${enc(d.id)}`} className="url">
            {d.url}
          </Link>{' '}
          <StatusBadge status={d.status} />
          {d.nextAttempt ? (
            <span className="muted">
              {' '}
              next attempt <Time iso={d.nextAttempt} />
            </span>
          ) : null}
        </div>
        {canWrite ? (
          <button type="button" className="btn small" onClick={() => void resend()} disabled={act.busy}>
            Resend
          </button>
        ) : null}
      </div>
      {note ? <Notice>{note}</Notice> : null}
      <ActionError error={act.error} />
      <Async state={attempts}>
        {(page) =>
          page.data.length === 0 ? (
            <p className="muted">No attempt yet.</p>
          ) : (
            <ol className="attempts" aria-label="Attempts" data-testid="attempts">
              {page.data.map((a) => (
                <AttemptView key={a.id} a={a} style={style} appId={appId} />
              ))}
            </ol>
          )
        }
      </Async>
    </section>
  );
}

export function MessageDetail({ appId, msgId }: { appId: string; msgId: string }) {
  const app = `/api/v1/app/${enc(appId)}`;
  const msg = useApi<Message>(`${app}/msg/${enc(msgId)}`);
  const info = useApi<AppInfo>(app);
  const dests = useApi<ListResponse<Destination>>(`${app}/msg/${enc(msgId)}/endpoint?limit=50`, LIVE_MS);
  return (
    <Async state={msg}>
      {(m) => (
        <>
          <PageHeader
            title={<span className="mono">{m.eventType}</span>}
            sub={
              <>
                <span className="mono">{m.id}</span>
                {m.eventId ? <span className="mono"> · event id {m.eventId}</span> : null} · sent <Time iso={m.timestamp} />
              </>
            }
            actions={
              <Link to={`/app/${enc(appId)}/messages`} className="btn ghost">
                All messages
              </Link>
            }
          />
          <section className="card" aria-labelledby="payload-title">
            <h2 id="payload-title">Payload</h2>
            <Json value={m.payload} label="Payload" />
            {m.channels?.length ? <p className="muted">Channels: {m.channels.join(', ')}</p> : null}
            {m.tags?.length ? <p className="muted">Tags: {m.tags.join(', ')}</p> : null}
          </section>
          <h2 className="section-title">Deliveries</h2>
          <Async state={dests}>
            {(page) =>
              page.data.length === 0 ? (
                <Empty title="Not sent to any endpoint">
                  <p>No endpoint was subscribed to this event type when the message arrived.</p>
                </Empty>
              ) : (
                <>
                  {page.data.map((d) => (
                    <DestinationView key={d.id} d={d} msgId={m.id} appId={appId} style={info.data?.headerStyle} />
                  ))}
                </>
              )
            }
          </Async>
        </>
      )}
    </Async>
  );
}
