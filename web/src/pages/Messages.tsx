/** The message log, searchable by event type, time, event id, endpoint and delivery status. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, ApiError, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { LIVE_MS, useApi } from '../hooks';
import { Link, navigate, useQuery } from '../router';
import type { Endpoint, EndpointMessage, EventType, Message, Status } from '../types';
import { Async, Empty, Field, PageHeader, Select, StatusBadge, Time } from '../components/ui';

interface Filters {
  q: string;
  type: string;
  endpoint: string;
  status: string;
  after: string;
  before: string;
  iterator: string;
}

const KEYS: (keyof Filters)[] = ['q', 'type', 'endpoint', 'status', 'after', 'before', 'iterator'];

function readFilters(p: URLSearchParams): Filters {
  return Object.fromEntries(KEYS.map((k) => [k, p.get(k) ?? ''])) as unknown as Filters;
}

const iso = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);

type Row = Message & { status?: Status };

/** Runs the search the filters describe. */
async function search(appId: string, f: Filters, signal: AbortSignal): Promise<ListResponse<Row> & { note?: string }> {
  const app = `/api/v1/app/${enc(appId)}`;
  if (f.q.trim()) {
    // A message id or the sender's event id: the API looks up both.
    try {
      const m = await api<Message>('GET', `${app}/msg/${enc(f.q.trim())}`, undefined, undefined, signal);
      return { data: [m], iterator: null, done: true };
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 422)) return { data: [], iterator: null, done: true };
      throw e;
    }
  }
  const common = { event_types: f.type || undefined, after: iso(f.after), before: iso(f.before), limit: 50 };
  if (f.endpoint) {
    return api<ListResponse<EndpointMessage>>('GET', `${app}/endpoint/${enc(f.endpoint)}/msg${qs({ ...common, status: f.status, iterator: f.iterator || undefined })}`, undefined, undefined, signal);
  }
  if (f.status) {
    // Delivery status belongs to (message, endpoint): gather from every endpoint, newest first.
    const eps = await api<ListResponse<Endpoint>>('GET', `${app}/endpoint?limit=50`, undefined, undefined, signal);
    const pages = await Promise.all(
      eps.data.map((ep) => api<ListResponse<EndpointMessage>>('GET', `${app}/endpoint/${enc(ep.id)}/msg${qs({ ...common, status: f.status })}`, undefined, undefined, signal)),
    );
    const seen = new Map<string, Row>();
    for (const p of pages) for (const m of p.data) if (!seen.has(m.id)) seen.set(m.id, m);
    const data = [...seen.values()].sort((a, b) => b.timestamp.localeCompare(a.timestamp)).slice(0, 50);
    return { data, iterator: null, done: true, note: data.length === 50 ? 'Showing the newest 50; choose an endpoint to page through all.' : undefined };
  }
  return api<ListResponse<Message>>('GET', `${app}/msg${qs({ ...common, with_content: false, iterator: f.iterator || undefined })}`, undefined, undefined, signal);
}

function SearchForm({ appId, f }: { appId: string; f: Filters }) {
  const [draft, setDraft] = useState<Filters>(f);
  const types = useApi<ListResponse<EventType>>('/api/v1/event-type?limit=250');
  const eps = useApi<ListResponse<Endpoint>>(`/api/v1/app/${enc(appId)}/endpoint?limit=50`);
  const apply = (next: Filters) => {
    const params = Object.fromEntries(KEYS.filter((k) => next[k]).map((k) => [k, next[k]]));
    navigate(`/app/${enc(appId)}/messages${qs(params)}`, true);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply({ ...draft, iterator: '' });
  };
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  return (
    <form className="card filters" onSubmit={submit} role="search" aria-label="Search messages">
      <Field label="Message or event id" value={draft.q} onChange={set('q')} placeholder="msg_… or your event id" />
      <Select label="Event type" value={draft.type} onChange={set('type')}>
        <option value="">Any</option>
        {(types.data?.data ?? []).map((t) => (
          <option key={t.name} value={t.name}>
            {t.name}
          </option>
        ))}
      </Select>
      <Select label="Endpoint" value={draft.endpoint} onChange={set('endpoint')}>
        <option value="">Any</option>
        {(eps.data?.data ?? []).map((ep) => (
          <option key={ep.id} value={ep.id}>
            {ep.url}
          </option>
        ))}
      </Select>
      <Select label="Delivery status" value={draft.status} onChange={set('status')}>
        <option value="">Any</option>
        <option value="0">Succeeded</option>
        <option value="1">Pending</option>
        <option value="2">Failed</option>
        <option value="3">Sending</option>
      </Select>
      <Field label="After" type="datetime-local" value={draft.after} onChange={set('after')} />
      <Field label="Before" type="datetime-local" value={draft.before} onChange={set('before')} />
      <div className="form-actions">
        <button type="submit" className="btn primary">
          Search
        </button>
        <button
          type="button"
          className="btn ghost"
          onClick={() => {
            const empty = readFilters(new URLSearchParams());
            setDraft(empty);
            apply(empty);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

export function Messages({ appId }: { appId: string }) {
  const params = useQuery();
  const f = readFilters(params);
  const key = `messages:${appId}:${params.toString()}`;
  const result = useApi(key, LIVE_MS, (signal) => search(appId, f, signal));
  const filtered = KEYS.some((k) => k !== 'iterator' && f[k]);
  const showStatus = Boolean(f.endpoint || f.status);
  const setIterator = (it: string | null) => {
    const p = new URLSearchParams(params);
    if (it) p.set('iterator', it);
    else p.delete('iterator');
    navigate(`/app/${enc(appId)}/messages${p.toString() ? '?' + p.toString() : ''}`);
  };
  return (
    <>
      <PageHeader title="Messages" sub="Every message sent to this application; new ones appear as they arrive." />
      <SearchForm key={params.toString()} appId={appId} f={f} />
      <Async state={result}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty title={filtered ? 'No messages match' : 'No messages yet'}>
              {filtered ? <p>Change or clear the search.</p> : <p>Messages sent with POST /api/v1/app/{'{app}'}/msg show up here.</p>}
            </Empty>
          ) : (
            <>
              {page.note ? <p className="muted">{page.note}</p> : null}
              <div className="table-wrap">
                <table data-testid="messages">
                  <thead>
                    <tr>
                      <th scope="col">Event type</th>
                      <th scope="col">Message</th>
                      <th scope="col">Event id</th>
                      {showStatus ? <th scope="col">Status</th> : null}
                      <th scope="col">Sent</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((m: Row) => (
                      <tr key={m.id}>
                        <td className="mono">{m.eventType}</td>
                        <td>
                          <Link to={`/app/${enc(appId)}/messages/${enc(m.id)}`} className="mono">
                            {m.id}
                          </Link>
                        </td>
                        <td className="mono">{m.eventId ?? <span className="muted">—</span>}</td>
                        {showStatus ? <td>{m.status !== undefined ? <StatusBadge status={m.status} /> : null}</td> : null}
                        <td>
                          <Time iso={m.timestamp} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {!page.done || f.iterator ? (
                <div className="pager">
                  <button type="button" className="btn small" disabled={!f.iterator} onClick={() => setIterator(null)}>
                    Newest
                  </button>
                  <button type="button" className="btn small" disabled={page.done || !page.iterator} onClick={() => setIterator(page.iterator)}>
                    Older
                  </button>
                </div>
              ) : null}
            </>
          )
        }
      </Async>
    </>
  );
}
