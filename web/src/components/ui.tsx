/** Small building blocks: states (loading, empty, error), badges, times, JSON, fields. */
import { useId, useState } from 'react';
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react';
import type { ApiError } from '../api';
import type { Status } from '../types';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function ErrorBox({ error, retry }: { error: ApiError | Error; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <p>{error.message}</p>
      {retry ? (
        <button type="button" className="btn small" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Shown when the server answers 404 for a whole feature's route. */
export function NotAvailable({ feature }: { feature: string }) {
  return (
    <div className="state empty" data-testid="not-available">
      <p className="empty-title">{feature} are not available on this server</p>
      <p className="muted">This server does not offer this API. Upgrade Switchboard or enable the feature to use it here.</p>
    </div>
  );
}

/** Loading, error and not-available states for a loaded resource; renders children when ready. */
export function Async<T>({
  state,
  feature,
  children,
}: {
  state: { data: T | undefined; error: ApiError | undefined; loading: boolean; reload: () => void };
  feature?: string;
  children: (data: T) => ReactNode;
}) {
  if (state.error && feature && state.error.missingRoute) return <NotAvailable feature={feature} />;
  if (state.data === undefined) {
    if (state.error) return <ErrorBox error={state.error} retry={state.reload} />;
    return <Loading />;
  }
  return (
    <>
      {state.error ? <p className="stale" role="status">Could not refresh: {state.error.message}</p> : null}
      {children(state.data)}
    </>
  );
}

const STATUS: Record<Status, [string, string]> = {
  0: ['Succeeded', 'ok'],
  1: ['Pending', 'warn'],
  2: ['Failed', 'bad'],
  3: ['Sending', 'info'],
};

export function StatusBadge({ status }: { status: Status }) {
  const [text, cls] = STATUS[status] ?? ['Unknown', 'info'];
  return <span className={`badge ${cls}`}>{text}</span>;
}

export function Badge({ tone = 'info', children }: { tone?: 'ok' | 'warn' | 'bad' | 'info' | 'plain'; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 minutes ago" from an ISO time. */
export function relative(iso: string, now = Date.now()): string {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  const a = Math.abs(s);
  if (a < 60) return rtf.format(s, 'second');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {relative(iso)}
    </time>
  );
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return (
    <pre className="json" tabIndex={0} aria-label={label ?? 'JSON'}>
      {text}
    </pre>
  );
}

/** Shows a response body: pretty-printed when it is JSON. */
export function Body({ text, label }: { text: string; label?: string }) {
  if (!text) return <span className="muted">(empty body)</span>;
  try {
    return <Json value={JSON.parse(text) as unknown} label={label} />;
  } catch {
    return <Json value={text} label={label} />;
  }
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="btn small"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setDone(true);
          window.setTimeout(() => setDone(false), 1500);
        });
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

type FieldProps = { label: string; error?: string | undefined; hint?: ReactNode };

/** A labelled input with its hint and error wired to aria-describedby. */
export function Field({ label, error, hint, ...input }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const describe = [hint ? id + '-hint' : '', error ? id + '-err' : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={'field' + (error ? ' invalid' : '')}>
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describe} {...input} />
      {hint ? (
        <p className="hint" id={id + '-hint'}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={id + '-err'} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function TextArea({ label, error, hint, ...input }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  const describe = [hint ? id + '-hint' : '', error ? id + '-err' : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={'field' + (error ? ' invalid' : '')}>
      <label htmlFor={id}>{label}</label>
      <textarea id={id} aria-invalid={error ? true : undefined} aria-describedby={describe} {...input} />
      {hint ? (
        <p className="hint" id={id + '-hint'}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={id + '-err'} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function Select({ label, children, ...input }: { label: string; children: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} {...input}>
        {children}
      </select>
    </div>
  );
}

/** A short-lived confirmation line after an action. */
export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}

/** Renders an action's error under the control that ran it. */
export function ActionError({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <p className="field-error" role="alert">
      {error.message}
    </p>
  );
}

export function PageHeader({ title, sub, actions }: { title: ReactNode; sub?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {sub ? <p className="muted sub">{sub}</p> : null}
      </div>
      {actions ? <div className="actions">{actions}</div> : null}
    </div>
  );
}
