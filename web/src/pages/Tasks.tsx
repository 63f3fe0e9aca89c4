/** Background tasks (recover, replays, purges, usage aggregations): status, kind, progress while running and result, refreshed live. */
import { useState } from 'react';
import { qs } from '../api';
import type { ListResponse } from '../api';
import { LIVE_MS, useApi } from '../hooks';
import type { BackgroundTask } from '../types';
import { Async, Badge, Empty, PageHeader, Select, Time } from '../components/ui';
import { Pager } from './Applications';

const KINDS: Record<string, string> = {
  'endpoint.recover': 'Recover failed messages',
  'endpoint.replay': 'Replay missing messages',
  'endpoint.bulk-replay': 'Bulk replay',
  'application.purge_content': 'Expunge all contents',
  'application.stats': 'Usage per application',
  'event-type.aggregate': 'Event types seen',
};

const TONE = { running: 'info', finished: 'ok', failed: 'bad' } as const;

/** A running task's progress, from its `data.progress` (`{done, total}`; total null when not known in advance). */
function progressOf(t: BackgroundTask): { done: number; total: number | null } | null {
  const p = t.data?.progress as { done?: unknown; total?: unknown } | undefined;
  if (typeof p?.done !== 'number') return null;
  return { done: p.done, total: typeof p.total === 'number' && p.total > 0 ? p.total : null };
}

/** How far the task is: items done (of how many, when known) and when that was written; or when it ended. */
function Progress({ t }: { t: BackgroundTask }) {
  if (t.status === 'running') {
    const p = progressOf(t);
    return (
      <span className="muted" data-testid="task-progress">
        <span className="pulse" aria-hidden="true" />{' '}
        {p === null ? 'In progress' : p.total === null ? `${p.done.toLocaleString()} done` : `${p.done.toLocaleString()} of ${p.total.toLocaleString()}`}
        {p !== null && p.total !== null && (
          <progress max={p.total} value={Math.min(p.done, p.total)} aria-label="Progress" style={{ width: '6em', marginLeft: '0.5em', verticalAlign: 'middle' }} />
        )}{' '}
        · updated <Time iso={t.updatedAt} />
      </span>
    );
  }
  return (
    <span className="muted">
      {t.status === 'finished' ? 'Done' : 'Stopped'} <Time iso={t.updatedAt} />
    </span>
  );
}

/** The result: the task's data once it ends (an error for a failed one); while it runs, its counters so far. */
function Result({ t }: { t: BackgroundTask }) {
  if (t.status === 'running') {
    const soFar = Object.entries(t.data ?? {}).filter(([k]) => k !== 'progress');
    if (soFar.length === 0) return <span className="muted">—</span>;
    return (
      <span className="muted">
        so far <code className="mono break">{JSON.stringify(Object.fromEntries(soFar))}</code>
      </span>
    );
  }
  const error = t.data?.error;
  if (t.status === 'failed' && typeof error === 'string') return <span className="bad-text">{error}</span>;
  return <code className="mono break">{JSON.stringify(t.data ?? {})}</code>;
}

export function Tasks() {
  const [iterator, setIterator] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState('');
  const [task, setTask] = useState('');
  const list = useApi<ListResponse<BackgroundTask>>(`/api/v1/background-task${qs({ limit: 50, iterator, status: status || undefined, task: task || undefined })}`, LIVE_MS);
  return (
    <>
      <PageHeader title="Background tasks" sub="Recoveries, replays, purges and usage aggregations started through the API, newest first." />
      <div className="filters">
        <Select label="Status" value={status} onChange={(e) => (setIterator(undefined), setStatus(e.target.value))}>
          <option value="">Any</option>
          <option value="running">Running</option>
          <option value="finished">Finished</option>
          <option value="failed">Failed</option>
        </Select>
        <Select label="Kind" value={task} onChange={(e) => (setIterator(undefined), setTask(e.target.value))}>
          <option value="">Any</option>
          {Object.entries(KINDS).map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </Select>
      </div>
      <Async state={list} feature="Background tasks">
        {(page) =>
          page.data.length === 0 && !iterator ? (
            <Empty title="No background tasks">
              <p>Recovering an endpoint, replaying or expunging messages, and usage aggregations run as background tasks and show here.</p>
            </Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table data-testid="background-tasks" aria-label="Background tasks">
                  <thead>
                    <tr>
                      <th scope="col">Task</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Status</th>
                      <th scope="col">Progress</th>
                      <th scope="col">Result</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((t) => (
                      <tr key={t.id} data-task={t.id}>
                        <td className="mono">{t.id}</td>
                        <td>
                          {KINDS[t.task] ?? t.task} <span className="mono muted">{t.task}</span>
                        </td>
                        <td>
                          <Badge tone={TONE[t.status] ?? 'plain'}>{t.status}</Badge>
                        </td>
                        <td>
                          <Progress t={t} />
                        </td>
                        <td>
                          <Result t={t} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager page={page} iterator={iterator} setIterator={setIterator} />
            </>
          )
        }
      </Async>
    </>
  );
}
