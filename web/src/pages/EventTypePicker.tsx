/**
 * Chooses the event types an endpoint receives (none chosen: all of them). Offers the defined
 * event types and, given an application, the types its recent messages were published with,
 * so the picker is useful before anyone defines event types.
 */
import { useMemo, useState } from 'react';
import type { ListResponse } from '../api';
import { useApi } from '../hooks';
import type { EventType, Message } from '../types';
import { Loading } from '../components/ui';

export function EventTypePicker({ value, onChange, appId }: { value: string[]; onChange: (v: string[]) => void; appId?: string }) {
  const types = useApi<ListResponse<EventType>>('/api/v1/event-type?limit=250');
  const recent = useApi<ListResponse<Message>>(appId ? `/api/v1/app/${encodeURIComponent(appId)}/msg?limit=250&with_content=false` : null);
  const [filter, setFilter] = useState('');
  const defined = useMemo(() => new Set((types.data?.data ?? []).filter((t) => !t.archived).map((t) => t.name)), [types.data]);
  const names = useMemo(() => {
    const all = new Set(defined);
    for (const m of recent.data?.data ?? []) all.add(m.eventType);
    for (const v of value) all.add(v);
    return [...all].sort();
  }, [defined, recent.data, value]);
  const shown = names.filter((n) => n.toLowerCase().includes(filter.toLowerCase()));
  const toggle = (n: string) => onChange(value.includes(n) ? value.filter((x) => x !== n) : [...value, n]);
  return (
    <fieldset className="picker">
      <legend>Event types</legend>
      <p className="hint">{value.length === 0 ? 'Receives every event type. Choose some to receive only those.' : `Receives ${value.length} chosen event type${value.length === 1 ? '' : 's'}.`}</p>
      {types.loading ? <Loading what="Loading event types" /> : null}
      {names.length > 8 ? (
        <input type="search" aria-label="Filter event types" placeholder="Filter event types" value={filter} onChange={(e) => setFilter(e.target.value)} />
      ) : null}
      {names.length === 0 && !types.loading ? <p className="muted">No event types are defined or published yet.</p> : null}
      <div className="picker-list">
        {shown.map((n) => (
          <label key={n} className="check">
            <input type="checkbox" checked={value.includes(n)} onChange={() => toggle(n)} /> <span className="mono">{n}</span>
            {defined.has(n) ? null : <span className="muted small"> (published, not defined)</span>}
          </label>
        ))}
      </div>
      {value.length > 0 ? (
        <button type="button" className="btn small ghost" onClick={() => onChange([])}>
          Receive all event types
        </button>
      ) : null}
    </fieldset>
  );
}
