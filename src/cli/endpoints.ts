/** `switchboard endpoint ...`: endpoints of an application, their secrets, headers, stats, recovery. */
import { Command } from 'commander';
import type { ApiClient } from './client.js';
import { seg } from './client.js';
import { apiCommand, clientOf, collect, count, jsonOf, list, maxOf, pairs, when, withPaging } from './common.js';
import { CliError, EXIT } from './exit-codes.js';
import { print, record, stdio, table } from './output.js';
import type { Io } from './output.js';
import { ProgressBar } from './progress.js';

interface EndpointOut {
  id: string;
  uid?: string;
  url: string;
  description: string;
  disabled?: boolean;
  filterTypes?: string[];
  channels?: string[];
  rateLimit?: number;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

interface Stats {
  success: number;
  pending: number;
  fail: number;
  sending: number;
}

const columns = [
  { header: 'id', value: (e: EndpointOut) => e.id },
  { header: 'uid', value: (e: EndpointOut) => e.uid },
  { header: 'url', value: (e: EndpointOut) => e.url, max: 50 },
  { header: 'event types', value: (e: EndpointOut) => e.filterTypes ?? 'all', max: 40 },
  { header: 'disabled', value: (e: EndpointOut) => (e.disabled ? 'yes' : '') },
];

interface Flags {
  url?: string;
  uid?: string;
  description?: string;
  eventTypes?: string[];
  channels?: string[];
  rateLimit?: number;
  metadata?: Record<string, string>;
}

const flags = (c: Command): Command =>
  c
    .option('--uid <uid>', 'your own unique id for it')
    .option('--description <text>', 'a description')
    .option('--event-types <types>', 'only these event types (comma-separated or repeated)', list)
    .option('--channels <channels>', 'only these channels (comma-separated or repeated)', list)
    .option('--rate-limit <n>', 'most requests a second', count)
    .option('--metadata <key=value>', 'metadata entry (repeatable)', pairs);

const body = (o: Flags) => ({
  url: o.url,
  uid: o.uid,
  description: o.description,
  filterTypes: o.eventTypes,
  channels: o.channels,
  rateLimit: o.rateLimit,
  metadata: o.metadata,
});

const base = (app: string, ep?: string): string => `/api/v1/app/${seg(app)}/endpoint${ep === undefined ? '' : '/' + seg(ep)}`;

/**
 * Follows a recovery or replay: polls the endpoint's stats over the window until nothing in
 * it is pending or in flight, drawing progress. Gives up after `timeoutMs`.
 */
async function follow(client: ApiClient, app: string, ep: string, window: { since: string; until?: string }, label: string, timeoutMs: number, showBar: boolean | undefined): Promise<Stats> {
  const query = { since: window.since, until: window.until };
  let total = 0;
  const bar = new ProgressBar(0, label, process.stderr, showBar);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await client.request<Stats>('GET', `${base(app, ep)}/stats`, { query });
    const outstanding = s.pending + s.sending;
    total = Math.max(total, outstanding);
    bar.update(total - outstanding, total);
    if (outstanding === 0) {
      bar.finish();
      return s;
    }
    if (Date.now() > end) {
      bar.finish();
      throw new CliError(`still ${outstanding} deliveries outstanding after ${Math.round(timeoutMs / 1000)} s; they continue on the server`, EXIT.timeout);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The `endpoint` command and its subcommands. */
export function endpointsCommand(io: Io = stdio): Command {
  const cmd = new Command('endpoint').alias('endpoints').description('manage the endpoints of an application');

  withPaging(apiCommand(cmd, 'list <app>', 'list the endpoints of an application')).action(async (app: string, o: { limit?: number; all?: boolean }, c: Command) => {
    const eps = await collect(clientOf(c).items<EndpointOut>(base(app), {}, maxOf(o)));
    print(io, jsonOf(c), eps, () => table(eps, columns));
  });

  apiCommand(cmd, 'get <app> <endpoint>', 'show an endpoint').action(async (app: string, ep: string, _o, c: Command) => {
    const e = await clientOf(c).request<EndpointOut>('GET', base(app, ep));
    print(io, jsonOf(c), e, () => record({ ...e }));
  });

  flags(apiCommand(cmd, 'create <app>', 'add an endpoint'))
    .requiredOption('--url <url>', 'where messages are sent')
    .option('--secret <whsec>', 'signing secret (default: generated)')
    .option('--header <name=value>', 'custom header sent with every request (repeatable)', pairs)
    .option('--disabled', 'create it disabled')
    .action(async (app: string, o: Flags & { secret?: string; header?: Record<string, string>; disabled?: boolean }, c: Command) => {
      const e = await clientOf(c).request<EndpointOut>('POST', base(app), { body: { ...body(o), secret: o.secret, headers: o.header, disabled: o.disabled } });
      print(io, jsonOf(c), e, () => `${e.id}\n`);
    });

  flags(apiCommand(cmd, 'update <app> <endpoint>', 'change an endpoint (only the given fields)'))
    .option('--url <url>', 'where messages are sent')
    .action(async (app: string, ep: string, o: Flags, c: Command) => {
      const e = await clientOf(c).request<EndpointOut>('PATCH', base(app, ep), { body: body(o) });
      print(io, jsonOf(c), e, () => record({ ...e }));
    });

  for (const [name, disabled] of [
    ['enable', false],
    ['disable', true],
  ] as const) {
    apiCommand(cmd, `${name} <app> <endpoint>`, `${name} an endpoint`).action(async (app: string, ep: string, _o, c: Command) => {
      const e = await clientOf(c).request<EndpointOut>('PATCH', base(app, ep), { body: { disabled } });
      print(io, jsonOf(c), e, () => `${e.id} ${disabled ? 'disabled' : 'enabled'}\n`);
    });
  }

  apiCommand(cmd, 'delete <app> <endpoint>', 'delete an endpoint').action(async (app: string, ep: string, _o, c: Command) => {
    await clientOf(c).request('DELETE', base(app, ep));
    print(io, jsonOf(c), { deleted: ep }, () => `deleted ${ep}\n`);
  });

  apiCommand(cmd, 'secret <app> <endpoint>', 'print the signing secret').action(async (app: string, ep: string, _o, c: Command) => {
    const s = await clientOf(c).request<{ key: string }>('GET', `${base(app, ep)}/secret`);
    print(io, jsonOf(c), s, () => `${s.key}\n`);
  });

  apiCommand(cmd, 'rotate-secret <app> <endpoint>', 'start signing with a new secret; the old one keeps signing for a grace period')
    .option('--key <whsec>', 'the new secret (default: generated)')
    .option('--grace <seconds>', 'how long the old secret keeps signing (default 86400)', count)
    .action(async (app: string, ep: string, o: { key?: string; grace?: number }, c: Command) => {
      await clientOf(c).request('POST', `${base(app, ep)}/secret/rotate`, { body: { key: o.key, gracePeriodSeconds: o.grace } });
      print(io, jsonOf(c), { rotated: ep }, () => `rotated the secret of ${ep}\n`);
    });

  apiCommand(cmd, 'headers <app> <endpoint>', 'show custom headers, or change them with --set and --unset')
    .option('--set <name=value>', 'set a header (repeatable)', pairs)
    .option('--unset <name>', 'remove a header (repeatable)', list)
    .action(async (app: string, ep: string, o: { set?: Record<string, string>; unset?: string[] }, c: Command) => {
      const client = clientOf(c);
      if (o.set || o.unset) {
        await client.request('PATCH', `${base(app, ep)}/headers`, { body: { headers: o.set ?? {}, deleteHeaders: o.unset } });
      }
      const h = await client.request<{ headers: Record<string, string>; sensitive: string[] }>('GET', `${base(app, ep)}/headers`);
      print(io, jsonOf(c), h, () =>
        table([...Object.entries(h.headers).map(([k, v]) => ({ k, v })), ...h.sensitive.map((k) => ({ k, v: '(sensitive)' }))], [
          { header: 'header', value: (r) => r.k },
          { header: 'value', value: (r) => r.v },
        ]),
      );
    });

  apiCommand(cmd, 'stats <app> <endpoint>', 'delivery counts by status')
    .option('--since <time>', 'from this time (date-time or duration ago: 30m, 12h, 7d)', (v) => when(v))
    .option('--until <time>', 'until this time', (v) => when(v))
    .action(async (app: string, ep: string, o: { since?: string; until?: string }, c: Command) => {
      const s = await clientOf(c).request<Stats>('GET', `${base(app, ep)}/stats`, { query: { since: o.since, until: o.until } });
      print(io, jsonOf(c), s, () => record({ ...s }));
    });

  for (const [name, path, what] of [
    ['recover', 'recover', 'send again every failed message of the window'],
    ['replay-missing', 'replay-missing', 'send the messages of the window this endpoint never got'],
  ] as const) {
    apiCommand(cmd, `${name} <app> <endpoint>`, what)
      .requiredOption('--since <time>', 'start of the window (date-time or duration ago: 30m, 12h, 7d)', (v) => when(v))
      .option('--until <time>', 'end of the window (default: now)', (v) => when(v))
      .option('--wait', 'follow the deliveries with a progress bar until none is outstanding')
      .option('--timeout <seconds>', 'with --wait: give up waiting after this long (default 600)', count)
      .option('--no-progress', 'no progress bar')
      .action(async (app: string, ep: string, o: { since: string; until?: string; wait?: boolean; timeout?: number; progress?: boolean }, c: Command) => {
        const client = clientOf(c);
        const task = await client.request<{ id: string; status: string }>('POST', `${base(app, ep)}/${path}`, { body: { since: o.since, until: o.until } });
        if (!o.wait) return print(io, jsonOf(c), task, () => `${name}: task ${task.id} ${task.status}\n`);
        const s = await follow(client, app, ep, { since: o.since, until: o.until }, name, (o.timeout ?? 600) * 1000, o.progress === false ? false : undefined);
        print(io, jsonOf(c), { task, stats: s }, () => `${name}: done; in the window ${s.success} delivered, ${s.fail} failed\n`);
      });
  }

  apiCommand(cmd, 'send-example <app> <endpoint>', 'send an example message of an event type (from its schema) to this endpoint only')
    .requiredOption('--event-type <name>', 'the event type')
    .action(async (app: string, ep: string, o: { eventType: string }, c: Command) => {
      const m = await clientOf(c).request<{ id: string }>('POST', `${base(app, ep)}/send-example`, { body: { eventType: o.eventType } });
      print(io, jsonOf(c), m, () => `${m.id}\n`);
    });
  return cmd;
}
