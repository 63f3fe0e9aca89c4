/** One application at a glance: delivery success and latency, queue, endpoints' health. */
import { useState } from 'react';
import { api, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { LIVE_MS, useApi } from '../hooks';
import { Link } from '../router';
import type { AppOverview as Overview, Endpoint, EndpointStats } from '../types';
import { DeliveryChart, LatencyChart } from '../components/charts';
import { Async, Badge, Empty, PageHeader, relative } from '../components/ui';

const WINDOWS = {
  hour: { label: 'Last hour', ms: 3600_000, bucket: 60 },
  day: { label: 'Last day', ms: 86_400_000, bucket: 1800 },
} as const;
type WindowKey = keyof typeof WINDOWS;

/** Rounds "now" to the bucket so consecutive polls ask for the same, cacheable windows. */
function overviewPath(appId: string, w: WindowKey): string {
  const { ms, bucket } = WINDOWS[w];
  const until = Math.ceil(Date.now() / (bucket * 1000)) * bucket * 1000;
  return `/api/v1/app/${enc(appId)}/stats/overview${qs({ since: new Date(until - ms).toISOString(), until: new Date(until).toISOString(), bucket_seconds: bucket })}`;
}

function pct(ok: number, bad: number): string {
  const n = ok + bad;
  return n === 0 ? '—' : `${((ok / n) * 100).toFixed(n < 1000 ? 0 : 1)}%`;
}

function Figures({ o }: { o: Overview }) {
  const total = o.totalSuccess + o.totalFailure;
  return (
    <dl className="figures">
      <div>
        <dt>Success rate</dt>
        <dd data-testid="success-rate">{pct(o.totalSuccess, o.totalFailure)}</dd>
      </div>
      <div>
        <dt>Attempts</dt>
        <dd>{total}</dd>
      </div>
      <div>
        <dt>Failed attempts</dt>
        <dd className={o.totalFailure > 0 ? 'bad-text' : undefined}>{o.totalFailure}</dd>
      </div>
      <div>
        <dt>Queue depth</dt>
        <dd data-testid="queue-depth">{o.queue.pending + o.queue.sending}</dd>
      </div>
      <div>
        <dt>Oldest pending</dt>
        <dd>{o.queue.oldestPendingAt ? <time dateTime={o.queue.oldestPendingAt}>{relative(o.queue.oldestPendingAt)}</time> : 'none'}</dd>
      </div>
    </dl>
  );
}

interface EndpointHealth {
  ep: Endpoint;
  stats: EndpointStats | null;
}

async function loadHealth(appId: string, signal: AbortSignal): Promise<ListResponse<EndpointHealth>> {
  const eps = await api<ListResponse<Endpoint>>('GET', `/api/v1/app/${enc(appId)}/endpoint?limit=50`, undefined, undefined, signal);
  const since = new Date(Date.now() - 86_400_000).toISOString();
  const stats = await Promise.all(
    eps.data.map((ep) =>
      api<EndpointStats>('GET', `/api/v1/app/${enc(appId)}/endpoint/${enc(ep.id)}/stats${qs({ since })}`, undefined, undefined, signal).catch(() => null),
    ),
  );
  return { ...eps, data: eps.data.map((ep, i) => ({ ep, stats: stats[i] ?? null })) };
}

function Health({ appId }: { appId: string }) {
  const health = useApi<ListResponse<EndpointHealth>>(`health:${appId}`, LIVE_MS * 2, (signal) => loadHealth(appId, signal));
  return (
    <section aria-labelledby="health-title" className="card">
      <h2 id="health-title">Endpoints (last day)</h2>
      <Async state={health}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty title="No endpoints yet">
              <p>
                <Link to={`/app/${enc(appId)}/endpoints/new`}>Add an endpoint</Link> to start receiving messages.
              </p>
            </Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Succeeded</th>
                    <th scope="col">Failed</th>
                    <th scope="col">Pending</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map(({ ep, stats }) => (
                    <tr key={ep.id}>
                      <td>
                        <Link to={`/app/${enc(appId)}/endpoints/${enc(ep.id)}`} className="url">
                          {ep.url}
                        </Link>{' '}
                        {ep.disabled ? <Badge tone="bad">Disabled</Badge> : null}
                      </td>
                      <td>{stats?.success ?? '—'}</td>
                      <td className={stats && stats.fail > 0 ? 'bad-text' : undefined}>{stats?.fail ?? '—'}</td>
                      <td>{stats ? stats.pending + stats.sending : '—'}</td>
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

export function AppOverview({ appId }: { appId: string }) {
  const [w, setW] = useState<WindowKey>('hour');
  // The window slides: the loader computes it at each refresh, the key stays stable.
  const overview = useApi<Overview>(`overview:${appId}:${w}`, LIVE_MS, (signal) => api<Overview>('GET', overviewPath(appId, w), undefined, undefined, signal));
  return (
    <>
      <PageHeader
        title="Overview"
        sub={
          <>
            Deliveries of this application, refreshed every few seconds. <span className="mono">{appId}</span>
          </>
        }
        actions={
          <div className="segmented" role="group" aria-label="Time window">
            {(Object.keys(WINDOWS) as WindowKey[]).map((k) => (
              <button key={k} type="button" className={'btn small' + (w === k ? ' selected' : '')} aria-pressed={w === k} onClick={() => setW(k)}>
                {WINDOWS[k].label}
              </button>
            ))}
          </div>
        }
      />
      <Async state={overview} feature="Delivery statistics">
        {(o) => (
          <>
            <Figures o={o} />
            {o.totalSuccess + o.totalFailure === 0 ? (
              <p className="muted">No delivery attempts in this window yet.</p>
            ) : null}
            <div className="charts">
              <section className="card" aria-labelledby="chart-deliveries">
                <h2 id="chart-deliveries">Delivery attempts</h2>
                <DeliveryChart series={o.series} label={`Delivery attempts, ${WINDOWS[w].label.toLowerCase()}`} />
              </section>
              <section className="card" aria-labelledby="chart-latency">
                <h2 id="chart-latency">Response time</h2>
                <LatencyChart series={o.series} label={`Response time, ${WINDOWS[w].label.toLowerCase()}`} />
              </section>
            </div>
          </>
        )}
      </Async>
      <Health appId={appId} />
    </>
  );
}
