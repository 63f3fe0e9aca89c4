/** `switchboard tasks ...`: background tasks (recover, replays, purges, aggregations), their status, progress and result. */
import { Command, Option } from 'commander';
import { seg } from './client.js';
import { apiCommand, clientOf, collect, jsonOf, maxOf, withPaging } from './common.js';
import { print, record, stdio, table } from './output.js';
import type { Io } from './output.js';
import type { BackgroundTaskKind } from '../storage/contract/background-tasks.js';

interface TaskOut {
  id: string;
  status: string;
  task: string;
  updatedAt: string;
  data?: unknown;
}

const BASE = '/api/v1/background-task';
const STATUSES = ['running', 'finished', 'failed'];
/** The kinds of task Switchboard runs. */
const KINDS: readonly BackgroundTaskKind[] = ['endpoint.recover', 'endpoint.replay', 'endpoint.bulk-replay', 'application.purge_content', 'application.stats', 'event-type.aggregate'];

/** A task's result in one line: nothing while it runs. */
const resultOf = (t: TaskOut): string => (t.status === 'running' || t.data === undefined ? '' : JSON.stringify(t.data));

/** How far a running task is, from its `data.progress`: `9 done`, `9 of 30 (30%)`; `done` once it ended. */
export function progressOf(t: TaskOut): string {
  if (t.status !== 'running') return 'done';
  const p = (t.data as { progress?: { done?: unknown; total?: unknown } } | undefined)?.progress;
  if (typeof p?.done !== 'number') return 'running';
  if (typeof p.total !== 'number' || p.total <= 0) return `${p.done} done`;
  return `${p.done} of ${p.total} (${Math.floor((100 * p.done) / p.total)}%)`;
}

/** A running task's counters so far (its data without the progress), in one line. */
const soFarOf = (t: TaskOut): string | undefined => {
  if (t.status !== 'running' || !t.data || typeof t.data !== 'object') return undefined;
  const counters = Object.entries(t.data as Record<string, unknown>).filter(([k]) => k !== 'progress');
  return counters.length > 0 ? JSON.stringify(Object.fromEntries(counters)) : undefined;
};

/** The `tasks` command and its subcommands. */
export function tasksCommand(io: Io = stdio): Command {
  const cmd = new Command('tasks').alias('task').description('list background tasks (recover, replays, purges, aggregations) and read their results');

  withPaging(apiCommand(cmd, 'list', 'list background tasks, newest first'))
    .addOption(new Option('--status <status>', 'only tasks with this status').choices(STATUSES))
    .addOption(new Option('--task <kind>', 'only tasks of this kind').choices([...KINDS]))
    .action(async (o: { limit?: number; all?: boolean; status?: string; task?: string }, c: Command) => {
      const rows = await collect(clientOf(c).items<TaskOut>(BASE, { status: o.status, task: o.task }, maxOf(o)));
      print(io, jsonOf(c), rows, () =>
        table(rows, [
          { header: 'id', value: (t) => t.id },
          { header: 'kind', value: (t) => t.task },
          { header: 'status', value: (t) => t.status },
          { header: 'progress', value: progressOf },
          { header: 'updated', value: (t) => t.updatedAt },
          { header: 'result', value: resultOf, max: 60 },
        ]),
      );
    });

  apiCommand(cmd, 'get <id>', 'show one task with its progress or result').action(async (id: string, _o, c: Command) => {
    const t = await clientOf(c).request<TaskOut>('GET', `${BASE}/${seg(id)}`);
    print(io, jsonOf(c), t, () =>
      record({
        id: t.id,
        kind: t.task,
        status: t.status,
        progress: t.status === 'running' ? progressOf(t) : undefined,
        'so far': soFarOf(t),
        updated: t.updatedAt,
        result: resultOf(t) || undefined,
      }),
    );
  });
  return cmd;
}
