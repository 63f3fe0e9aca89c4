/** Create or edit an endpoint: URL (checked as you type and by the server), event types, headers, rate limit. */
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { api, ApiError, enc } from '../api';
import { useSession } from '../context';
import { useAction, useApi } from '../hooks';
import { Link, navigate } from '../router';
import type { Endpoint } from '../types';
import { ActionError, Empty, ErrorBox, Field, Loading, PageHeader } from '../components/ui';
import { EventTypePicker } from './EventTypePicker';

/** A client-side check of the URL, before the server's (which also checks the address). */
export function urlProblem(url: string): string | undefined {
  const u = url.trim();
  if (!u) return 'Enter the URL that should receive webhooks.';
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    return 'This is not a valid URL. Use a full address such as https://example.com/webhooks.';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'The URL must start with https:// (or http://).';
  if (parsed.username || parsed.password) return 'Put credentials in a custom header (Authorization), not in the URL.';
  return undefined;
}

/** Explains the server's refusal of a URL in plain words. */
function serverUrlProblem(e: ApiError | undefined): string | undefined {
  const issue = e?.issues.find((i) => i.loc[0] === 'body' && i.loc[1] === 'url');
  if (!issue) return undefined;
  if (issue.type === 'value_error.url.address') return 'The server refuses this address: it is private or reserved. An operator can allow its network with SWITCHBOARD_ALLOWED_NETWORKS.';
  return `The server refused this URL: ${issue.msg}.`;
}

interface HeaderRow {
  name: string;
  value: string;
  /** A stored header whose value the server does not reveal. */
  hidden?: boolean;
}

const SENSITIVE_PLACEHOLDER = '(hidden; type to replace)';

export function EndpointForm({ appId, epId }: { appId: string; epId?: string }) {
  const { canWrite } = useSession();
  const editing = epId !== undefined;
  const base = `/api/v1/app/${enc(appId)}/endpoint`;
  const existing = useApi<Endpoint>(editing ? `${base}/${enc(epId)}` : null);
  const existingHeaders = useApi<{ headers: Record<string, string>; sensitive: string[] }>(editing ? `${base}/${enc(epId)}/headers` : null);

  const [url, setUrl] = useState('');
  const [touched, setTouched] = useState(false);
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<string[]>([]);
  const [channels, setChannels] = useState('');
  const [rateLimit, setRateLimit] = useState('');
  const [headers, setHeaders] = useState<HeaderRow[]>([]);
  const [initialHeaders, setInitialHeaders] = useState<string[]>([]);
  const [loaded, setLoaded] = useState(!editing);
  const act = useAction();

  useEffect(() => {
    if (!editing || loaded || !existing.data || !existingHeaders.data) return;
    const ep = existing.data;
    setUrl(ep.url);
    setDescription(ep.description);
    setTypes(ep.filterTypes ?? []);
    setChannels((ep.channels ?? []).join(', '));
    setRateLimit(ep.rateLimit === undefined ? '' : String(ep.rateLimit));
    const h = existingHeaders.data;
    const rows: HeaderRow[] = [...Object.entries(h.headers).map(([name, value]) => ({ name, value })), ...h.sensitive.map((name) => ({ name, value: '', hidden: true }))];
    setHeaders(rows);
    setInitialHeaders(rows.map((r) => r.name.toLowerCase()));
    setLoaded(true);
  }, [editing, loaded, existing.data, existingHeaders.data]);

  if (!canWrite) return <Empty title="Read-only access">You can view endpoints but not change them.</Empty>;
  if (editing && (existing.error || existingHeaders.error)) return <ErrorBox error={(existing.error ?? existingHeaders.error)!} retry={existing.reload} />;
  if (!loaded) return <Loading />;

  const localUrlError = touched ? urlProblem(url) : undefined;
  const urlError = localUrlError ?? serverUrlProblem(act.error);
  const rate = rateLimit.trim() === '' ? null : Number(rateLimit);
  const rateError = rate !== null && (!Number.isInteger(rate) || rate < 1 || rate > 65535) ? 'A whole number of messages per second, from 1 to 65535.' : undefined;
  const headerErrors = headers.map((h) => (h.name && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h.name) ? 'Not a valid header name.' : undefined));
  const channelList = channels
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (urlProblem(url) || rateError || headerErrors.some(Boolean)) return;
    const rows = headers.filter((h) => h.name.trim());
    const body = {
      url: url.trim(),
      description,
      filterTypes: types.length ? types : null,
      channels: channelList.length ? channelList : null,
      rateLimit: rate,
    };
    const saved = await act.run(async () => {
      if (!editing) {
        const headerMap = Object.fromEntries(rows.map((h) => [h.name.trim(), h.value]));
        return api<Endpoint>('POST', base, { ...body, headers: Object.keys(headerMap).length ? headerMap : undefined });
      }
      const ep = await api<Endpoint>('PATCH', `${base}/${enc(epId)}`, body);
      // Only headers that changed are sent, so hidden (sensitive) values stay as they are.
      const changes: Record<string, string | null> = {};
      for (const h of rows) if (!h.hidden || h.value) changes[h.name.trim()] = h.value;
      const kept = new Set(rows.map((h) => h.name.trim().toLowerCase()));
      for (const name of initialHeaders) if (!kept.has(name)) changes[name] = null;
      if (Object.keys(changes).length) await api('PATCH', `${base}/${enc(epId)}/headers`, { headers: changes });
      return ep;
    });
    if (saved) navigate(`/app/${enc(appId)}/endpoints/${enc(saved.id)}`);
  };

  const setHeader = (i: number, patch: Partial<HeaderRow>) => setHeaders((hs) => hs.map((h, j) => (j === i ? { ...h, ...patch } : h)));
  const otherError = act.error && !serverUrlProblem(act.error) ? act.error : undefined;

  return (
    <>
      <PageHeader title={editing ? 'Edit endpoint' : 'Add endpoint'} />
      <form className="card form" onSubmit={(e) => void submit(e)} noValidate aria-label={editing ? 'Edit endpoint' : 'Add endpoint'}>
        <Field
          label="Endpoint URL"
          type="url"
          inputMode="url"
          placeholder="https://example.com/webhooks"
          required
          value={url}
          error={urlError}
          onChange={(e) => {
            setUrl(e.target.value);
            if (act.error) act.clear();
          }}
          onBlur={() => setTouched(true)}
        />
        <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <EventTypePicker value={types} onChange={setTypes} appId={appId} />
        <Field label="Channels (optional)" value={channels} onChange={(e) => setChannels(e.target.value)} hint="Comma-separated; only messages sent to one of these channels are delivered." error={act.error?.fieldIssue('channels')} />
        <Field
          label="Rate limit (messages per second, optional)"
          type="number"
          min={1}
          max={65535}
          value={rateLimit}
          onChange={(e) => setRateLimit(e.target.value)}
          error={rateError ?? act.error?.fieldIssue('rateLimit')}
          hint="Leave empty for no limit."
        />
        <fieldset className="headers-edit">
          <legend>Custom headers</legend>
          <p className="hint">Sent with every request to this endpoint, e.g. an Authorization header your receiver checks.</p>
          {headers.map((h, i) => (
            <div className="header-row" key={i}>
              <Field label={`Header ${i + 1} name`} value={h.name} error={headerErrors[i]} onChange={(e) => setHeader(i, { name: e.target.value })} disabled={h.hidden} />
              <Field label={`Header ${i + 1} value`} value={h.value} placeholder={h.hidden ? SENSITIVE_PLACEHOLDER : ''} onChange={(e) => setHeader(i, { value: e.target.value })} />
              <button type="button" className="btn small ghost" aria-label={`Remove header ${h.name || i + 1}`} onClick={() => setHeaders((hs) => hs.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="btn small" onClick={() => setHeaders((hs) => [...hs, { name: '', value: '' }])}>
            Add header
          </button>
          {act.error?.issues.some((i) => i.loc[1] === 'headers') ? (
            <p className="field-error" role="alert">
              {act.error.issues.filter((i) => i.loc[1] === 'headers').map((i) => `${String(i.loc[2] ?? '')}: ${i.msg}`).join('; ')}
            </p>
          ) : null}
        </fieldset>
        {otherError && !otherError.issues.length ? <ActionError error={otherError} /> : null}
        {otherError?.issues.length && !otherError.issues.some((i) => ['url', 'headers', 'channels', 'rateLimit'].includes(String(i.loc[1]))) ? <ActionError error={otherError} /> : null}
        <div className="form-actions">
          <button type="submit" className="btn primary" disabled={act.busy}>
            {editing ? 'Save changes' : 'Create endpoint'}
          </button>
          <Link to={editing ? `/app/${enc(appId)}/endpoints/${enc(epId)}` : `/app/${enc(appId)}/endpoints`} className="btn ghost">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}
