/** `switchboard tasks ...`: background tasks (recover, replays, purges, aggregations), their status and result. */
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
          { header: 'updated', value: (t) => t.updatedAt },
          { header: 'result', value: resultOf, max: 60 },
        ]),
      );
    });

  apiCommand(cmd, 'get <id>', 'show one task with its result').action(async (id: string, _o, c: Command) => {
    const t = await clientOf(c).request<TaskOut>('GET', `${BASE}/${seg(id)}`);
    print(io, jsonOf(c), t, () => record({ id: t.id, kind: t.task, status: t.status, updated: t.updatedAt, result: resultOf(t) || undefined }));
  });
  return cmd;
}
