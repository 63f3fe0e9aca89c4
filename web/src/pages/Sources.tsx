/** Ingest sources (webhooks in), and polling and cron sources (APIs polled, schedules) with their status. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, enc, qs } from '../api';
import type { ListResponse } from '../api';
import { LIVE_MS, useAction, useApi } from '../hooks';
import { Link, navigate } from '../router';
import type { IngestSource } from '../types';
import { ActionError, Async, Badge, CopyButton, Empty, Field, PageHeader, Select, TextArea, Time } from '../components/ui';
import { Pager } from './Applications';

export const SOURCE_TYPES = [
  'generic-webhook',
  'stripe',
  'github',
  'shopify',
  'slack',
  'twilio',
  'svix',
  'standard-webhooks',
  'generic-hmac',
  'basic-auth',
  'bearer',
  'poll',
  'cron',
] as const;

const CONFIG_HINTS: Record<string, string> = {
  stripe: '{ "secret": "whsec_..." }',
  github: '{ "secret": "..." }',
  shopify: '{ "secret": "..." }',
  slack: '{ "secret": "..." }',
  twilio: '{ "secret": "..." }',
  svix: '{ "secret": "whsec_..." }',
  'standard-webhooks': '{ "secret": "whsec_..." }',
  'generic-hmac': '{ "secret": "...", "header": "x-signature", "algorithm": "sha256", "encoding": "hex" }',
  'basic-auth': '{ "username": "...", "password": "..." }',
  bearer: '{ "token": "..." }',
  poll: '{ "url": "https://api.example.com/items", "intervalSecs": 60, "eventType": "item.changed", "emitOn": "both" }',
  cron: '{ "schedule": "*/5 * * * *", "payload": "{}", "contentType": "application/json" }',
};

const KNOWN = new Set(['id', 'uid', 'name', 'type', 'ingestUrl', 'config', 'createdAt', 'updatedAt', 'metadata']);

/** Fields a source carries beyond its definition: its last run, outcome, error and next run. */
export function statusOf(s: IngestSource): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(s)) {
    if (KNOWN.has(k) || v === undefined || v === null) continue;
    // A nested status object (e.g. `run`) is shown field by field.
    if (typeof v === 'object' && !Array.isArray(v)) for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) out.push([k2, v2]);
    else out.push([k, v]);
  }
  return out;
}

/** "Next run at" from `nextRunAt` or `next_run_at`. */
export function labelOf(key: string): string {
  const words = key
    .replace(/[._]/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function StatusValue({ k, v }: { k: string; v: unknown }) {
  if (v === null || v === undefined) return <span className="muted">—</span>;
  if (typeof v === 'string' && /At$|_at$|time/i.test(k) && !Number.isNaN(Date.parse(v))) return <Time iso={v} />;
  if (typeof v === 'string' && /error/i.test(k)) return <span className="bad-text">{v}</span>;
  if (k === 'lastOutcome' && typeof v === 'string') return <Badge tone={v === 'error' ? 'bad' : 'ok'}>{v}</Badge>;
  if (typeof v === 'boolean') return <>{v ? 'yes' : 'no'}</>;
  return <>{typeof v === 'string' ? v : JSON.stringify(v)}</>;
}

function NewSource({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState<string>('generic-webhook');
  const [config, setConfig] = useState('');
  const [configError, setConfigError] = useState<string | undefined>(undefined);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let parsed: unknown = undefined;
    if (config.trim()) {
      try {
        parsed = JSON.parse(config);
      } catch (err) {
        return setConfigError(`Not valid JSON: ${(err as Error).message}`);
      }
    }
    const s = await act.run(() => api<IngestSource>('POST', '/ingest/api/v1/source', { name: name.trim(), type, config: parsed }));
    if (s) {
      onDone();
      navigate(`/sources/${enc(s.id)}`);
    }
  };
  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="New source">
      <Field label="Name" required value={name} onChange={(e) => setName(e.target.value)} error={act.error?.fieldIssue('name')} />
      <Select label="Type" value={type} onChange={(e) => setType(e.target.value)}>
        {SOURCE_TYPES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </Select>
      {type !== 'generic-webhook' ? (
        <TextArea
          label="Configuration (JSON)"
          className="mono"
          rows={4}
          value={config}
          placeholder={CONFIG_HINTS[type]}
          error={configError ?? act.error?.fieldIssue('config')}
          onChange={(e) => {
            setConfig(e.target.value);
            setConfigError(undefined);
          }}
        />
      ) : null}
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={act.busy || name.trim().length < 2}>
          Create source
        </button>
      </div>
      <ActionError error={act.error} />
    </form>
  );
}

export function Sources() {
  const [iterator, setIterator] = useState<string | undefined>(undefined);
  const [adding, setAdding] = useState(false);
  const list = useApi<ListResponse<IngestSource>>(`/ingest/api/v1/source${qs({ limit: 50, iterator })}`, LIVE_MS);
  const available = !list.error?.missingRoute;
  return (
    <>
      <PageHeader
        title="Sources"
        sub="Webhooks received from providers, APIs polled for changes, and schedules, each turned into messages."
        actions={
          available ? (
            <button type="button" className="btn primary" aria-expanded={adding} onClick={() => setAdding((a) => !a)}>
              {adding ? 'Cancel' : 'New source'}
            </button>
          ) : null
        }
      />
      {adding ? <NewSource onDone={() => setAdding(false)} /> : null}
      <Async state={list} feature="Ingest sources">
        {(page) =>
          page.data.length === 0 && !iterator ? (
            <Empty title="No sources yet">
              <p>A source gives a provider (Stripe, GitHub, …) a URL to send webhooks to, or polls an API on a schedule.</p>
            </Empty>
          ) : (
            <>
              <ul className="rows" aria-label="Sources">
                {page.data.map((s) => {
                  const status = statusOf(s);
                  return (
                    <li key={s.id} className="row">
                      <div className="row-main">
                        <Link to={`/sources/${enc(s.id)}`} className="row-title">
                          {s.name}
                        </Link>{' '}
                        <Badge tone="plain">{s.type}</Badge>
                        {s.ingestUrl ? (
                          <p className="mono muted break">
                            {s.ingestUrl} <CopyButton text={s.ingestUrl} label="Copy URL" />
                          </p>
                        ) : null}
                      </div>
                      <div className="row-side">
                        {status.slice(0, 3).map(([k, v]) => (
                          <span key={k} className="muted">
                            {labelOf(k)}: <StatusValue k={k} v={v} />
                          </span>
                        ))}
                      </div>
                    </li>
                  );
                })}
              </ul>
              <Pager page={page} iterator={iterator} setIterator={setIterator} />
            </>
          )
        }
      </Async>
    </>
  );
}
