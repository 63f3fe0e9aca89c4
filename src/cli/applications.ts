/** `switchboard app ...`: applications. */
import { Command } from 'commander';
import { seg } from './client.js';
import { apiCommand, clientOf, collect, count, jsonOf, maxOf, pairs, withPaging } from './common.js';
import { print, record, stdio, table } from './output.js';
import type { Io } from './output.js';

interface AppOut {
  id: string;
  uid?: string;
  name: string;
  rateLimit?: number;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

const columns = [
  { header: 'id', value: (a: AppOut) => a.id },
  { header: 'uid', value: (a: AppOut) => a.uid },
  { header: 'name', value: (a: AppOut) => a.name, max: 40 },
  { header: 'rate limit', value: (a: AppOut) => a.rateLimit },
  { header: 'created', value: (a: AppOut) => a.createdAt },
];

interface AppFlags {
  name?: string;
  uid?: string;
  rateLimit?: number;
  metadata?: Record<string, string>;
  headerStyle?: string;
}

const body = (o: AppFlags) => ({ name: o.name, uid: o.uid, rateLimit: o.rateLimit, metadata: o.metadata, headerStyle: o.headerStyle });

const appFlags = (c: Command): Command =>
  c
    .option('--uid <uid>', 'your own unique id for it')
    .option('--rate-limit <n>', 'most messages a second to each of its endpoints', count)
    .option('--metadata <key=value>', 'metadata entry (repeatable)', pairs)
    .option('--header-style <style>', 'signature headers: standard (webhook-*), svix (svix-*) or both');

/** The `app` command and its subcommands. */
export function applicationsCommand(io: Io = stdio): Command {
  const cmd = new Command('app').alias('apps').description('manage applications (the tenants messages are published to)');

  withPaging(apiCommand(cmd, 'list', 'list applications')).action(async (o: { limit?: number; all?: boolean }, c: Command) => {
    const apps = await collect(clientOf(c).items<AppOut>('/api/v1/app', {}, maxOf(o)));
    print(io, jsonOf(c), apps, () => table(apps, columns));
  });

  apiCommand(cmd, 'get <app>', 'show an application (id or uid)').action(async (app: string, _o, c: Command) => {
    const a = await clientOf(c).request<AppOut>('GET', `/api/v1/app/${seg(app)}`);
    print(io, jsonOf(c), a, () => record({ ...a }));
  });

  appFlags(apiCommand(cmd, 'create', 'create an application'))
    .requiredOption('--name <name>', 'its name')
    .option('--get-if-exists', 'answer with the existing application if the uid is taken')
    .action(async (o: AppFlags & { getIfExists?: boolean }, c: Command) => {
      const a = await clientOf(c).request<AppOut>('POST', '/api/v1/app', { body: body(o), query: { get_if_exists: o.getIfExists } });
      print(io, jsonOf(c), a, () => `${a.id}\n`);
    });

  appFlags(apiCommand(cmd, 'update <app>', 'change an application (only the given fields)'))
    .option('--name <name>', 'its name')
    .action(async (app: string, o: AppFlags, c: Command) => {
      const a = await clientOf(c).request<AppOut>('PATCH', `/api/v1/app/${seg(app)}`, { body: body(o) });
      print(io, jsonOf(c), a, () => record({ ...a }));
    });

  apiCommand(cmd, 'delete <app>', 'delete an application with its endpoints and messages').action(async (app: string, _o, c: Command) => {
    await clientOf(c).request('DELETE', `/api/v1/app/${seg(app)}`);
    print(io, jsonOf(c), { deleted: app }, () => `deleted ${app}\n`);
  });
  return cmd;
}
