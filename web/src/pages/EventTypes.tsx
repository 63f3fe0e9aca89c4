/** The event-type catalogue with each type's JSON schemas. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../api';
import type { ListResponse } from '../api';
import { useSession } from '../context';
import { LIVE_MS, useAction, useApi } from '../hooks';
import type { EventType } from '../types';
import { ActionError, Async, Badge, Empty, Field, Json, PageHeader, TextArea } from '../components/ui';

const SCHEMA_EXAMPLE = `{
  "type": "object",
  "properties": { "id": { "type": "string" } },
  "examples": [{ "id": "123" }]
}`;

function NewEventType({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [schema, setSchema] = useState('');
  const [schemaError, setSchemaError] = useState<string | undefined>(undefined);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let parsed: unknown = undefined;
    if (schema.trim()) {
      try {
        parsed = JSON.parse(schema);
      } catch (err) {
        return setSchemaError(`Not valid JSON: ${(err as Error).message}`);
      }
    }
    const done = await act.run(() => api('POST', '/api/v1/event-type', { name: name.trim(), description, schemas: parsed === undefined ? undefined : { '1': parsed } }));
    if (done) onDone();
  };
  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="New event type">
      <Field label="Name" required value={name} placeholder="invoice.paid" onChange={(e) => setName(e.target.value)} error={act.error?.fieldIssue('name')} hint="Letters, digits, dots, dashes and underscores." />
      <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <TextArea
        label="JSON schema (optional)"
        rows={7}
        className="mono"
        value={schema}
        placeholder={SCHEMA_EXAMPLE}
        error={schemaError ?? act.error?.fieldIssue('schemas')}
        hint="Its first example is what 'Send test event' sends."
        onChange={(e) => {
          setSchema(e.target.value);
          setSchemaError(undefined);
        }}
      />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={act.busy || !name.trim()}>
          Create event type
        </button>
      </div>
      {act.error && !act.error.fieldIssue('name') && !act.error.fieldIssue('schemas') ? <ActionError error={act.error} /> : null}
    </form>
  );
}

function EventTypeRow({ t, reload }: { t: EventType; reload: () => void }) {
  const { scope } = useSession();
  const [open, setOpen] = useState(false);
  const act = useAction();
  const versions = Object.entries(t.schemas ?? {});
  const archive = async () => {
    if (await act.run(() => api('PATCH', `/api/v1/event-type/${encodeURIComponent(t.name)}`, { archived: !t.archived }))) reload();
  };
  return (
    <li className="row column">
      <div className="row-line">
        <div className="row-main">
          <p className="row-title mono">{t.name}</p>
          <p className="muted">{t.description || 'No description.'}</p>
        </div>
        <div className="row-side">
          {t.archived ? <Badge tone="warn">Archived</Badge> : null}
          {t.deprecated ? <Badge tone="warn">Deprecated</Badge> : null}
          {versions.length ? (
            <button type="button" className="btn small" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
              {open ? 'Hide schema' : `Schema${versions.length > 1 ? 's' : ''}`}
            </button>
          ) : (
            <span className="muted">no schema</span>
          )}
          {scope.kind === 'admin' ? (
            <button type="button" className="btn small ghost" onClick={() => void archive()} disabled={act.busy}>
              {t.archived ? 'Unarchive' : 'Archive'}
            </button>
          ) : null}
        </div>
      </div>
      <ActionError error={act.error} />
      {open
        ? versions.map(([v, s]) => (
            <div key={v} className="schema">
              <p className="muted">Version {v}</p>
              <Json value={s} label={`Schema version ${v} of ${t.name}`} />
            </div>
          ))
        : null}
    </li>
  );
}

export function EventTypes() {
  const { scope } = useSession();
  const [adding, setAdding] = useState(false);
  const [archived, setArchived] = useState(false);
  const list = useApi<ListResponse<EventType>>(`/api/v1/event-type?limit=250&with_content=true&include_archived=${archived}`, LIVE_MS * 3);
  return (
    <>
      <PageHeader
        title="Event types"
        sub="The kinds of events an application sends, with their JSON schemas."
        actions={
          <>
            <label className="check">
              <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> Show archived
            </label>
            {scope.kind === 'admin' ? (
              <button type="button" className="btn primary" aria-expanded={adding} onClick={() => setAdding((a) => !a)}>
                {adding ? 'Cancel' : 'New event type'}
              </button>
            ) : null}
          </>
        }
      />
      {adding ? (
        <NewEventType
          onDone={() => {
            setAdding(false);
            list.reload();
          }}
        />
      ) : null}
      <Async state={list}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty title="No event types yet">
              <p>Messages can use any event type name; defining them here documents their payloads.</p>
            </Empty>
          ) : (
            <ul className="rows" aria-label="Event types">
              {page.data.map((t) => (
                <EventTypeRow key={t.name} t={t} reload={list.reload} />
              ))}
            </ul>
          )
        }
      </Async>
    </>
  );
}
