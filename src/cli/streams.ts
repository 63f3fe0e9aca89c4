/**
 * `switchboard streams ...`: streams, their sinks (create, enable/disable, attempts, replay),
 * sending events to a stream and reading a poller sink's events, through the Stream API.
 */
import { Command } from 'commander';
import { seg } from './client.js';
import { apiCommand, clientOf, collect, count, jsonArg, jsonObjectArg, jsonOf, list, maxOf, parseJsonArg, when, withPaging } from './common.js';
import { CliError, EXIT } from './exit-codes.js';
import { print, record, stdio, table } from './output.js';
import type { Io } from './output.js';

interface StreamOut {
  id: string;
  uid?: string | null;
  name?: string | null;
  description?: string | null;
  createdAt: string;
}

interface SinkOut {
  id: string;
  uid?: string | null;
  type: string;
  config?: Record<string, unknown>;
  extension?: { type: string; config: Record<string, unknown> };
  batchSize: number;
  maxWaitSecs: number;
  eventTypes?: string[];
  status: string;
  failureReason?: string | null;
  nextRetryAt?: string | null;
  currentIterator: string;
}

interface AttemptOut {
  id: string;
  createdAt: string;
  outcome: string;
  count: number;
  firstIterator: string;
  lastIterator: string;
  responseStatus?: number | null;
  error?: string | null;
  durationMs: number;
}

interface EventOut {
  eventType: string;
  payload: string;
  timestamp: string;
}

/** A sink's real type (extension sinks are shown to SDKs as http) and config. */
const typeOf = (s: SinkOut): string => s.extension?.type ?? s.type;
const configOf = (s: SinkOut): Record<string, unknown> => s.extension?.config ?? s.config ?? {};
/** Where a sink delivers: its URI field, with a queue, stream, subject or topic when it has one. */
export function destinationOf(s: SinkOut): string {
  const c = configOf(s);
  const where = [c.url ?? c.uri, c.exchange, c.routingKey ?? c.streamKey ?? c.subject ?? c.topic].filter((v) => typeof v === 'string' && v !== '');
  return where.length ? where.join(' ') : typeOf(s) === 'poller' ? '(read with `streams events`)' : '';
}

const streamColumns = [
  { header: 'id', value: (s: StreamOut) => s.id },
  { header: 'uid', value: (s: StreamOut) => s.uid },
  { header: 'name', value: (s: StreamOut) => s.name, max: 40 },
  { header: 'created', value: (s: StreamOut) => s.createdAt },
];

const sinkColumns = [
  { header: 'id', value: (s: SinkOut) => s.id },
  { header: 'type', value: typeOf },
  { header: 'destination', value: destinationOf, max: 60 },
  { header: 'status', value: (s: SinkOut) => s.status },
  { header: 'batch', value: (s: SinkOut) => `${s.batchSize}/${s.maxWaitSecs}s` },
  { header: 'iterator', value: (s: SinkOut) => s.currentIterator },
  { header: 'failure', value: (s: SinkOut) => s.failureReason, max: 50 },
];

const attemptColumns = [
  { header: 'time', value: (a: AttemptOut) => a.createdAt },
  { header: 'outcome', value: (a: AttemptOut) => a.outcome },
  { header: 'count', value: (a: AttemptOut) => a.count },
  { header: 'status', value: (a: AttemptOut) => a.responseStatus },
  { header: 'ms', value: (a: AttemptOut) => a.durationMs },
  { header: 'error', value: (a: AttemptOut) => a.error, max: 60 },
];

const streamPath = (stream?: string): string => `/api/v1/stream${stream === undefined ? '' : '/' + seg(stream)}`;
const sinkPath = (stream: string, sink?: string): string => `${streamPath(stream)}/sink${sink === undefined ? '' : '/' + seg(sink)}`;

const eventLine = (e: EventOut): string => `${e.timestamp}  ${e.eventType}  ${e.payload}\n`;

/** The `sinks` subcommand of `streams`. */
function sinksCommand(io: Io): Command {
  const cmd = new Command('sinks').alias('sink').description('manage the sinks of a stream: where its events are delivered');

  withPaging(apiCommand(cmd, 'list <stream>', 'list the sinks of a stream')).action(async (stream: string, o: { limit?: number; all?: boolean }, c: Command) => {
    const sinks = await collect(clientOf(c).items<SinkOut>(sinkPath(stream), {}, maxOf(o)));
    print(io, jsonOf(c), sinks, () => table(sinks, sinkColumns));
  });

  apiCommand(cmd, 'get <stream> <sink>', 'show a sink (credentials masked)').action(async (stream: string, sink: string, _o, c: Command) => {
    const s = await clientOf(c).request<SinkOut>('GET', sinkPath(stream, sink));
    print(io, jsonOf(c), s, () =>
      record({
        id: s.id,
        uid: s.uid ?? undefined,
        type: typeOf(s),
        config: configOf(s),
        batchSize: s.batchSize,
        maxWaitSecs: s.maxWaitSecs,
        eventTypes: s.eventTypes?.length ? s.eventTypes : 'all',
        status: s.status,
        failureReason: s.failureReason ?? undefined,
        nextRetryAt: s.nextRetryAt ?? undefined,
        currentIterator: s.currentIterator,
      }),
    );
  });

  apiCommand(cmd, 'create <stream>', 'add a sink to a stream')
    .requiredOption('--type <type>', 'poller, http, rabbitMq, redis, natsJetStream or mqtt')
    .option('--config <json>', 'the config as JSON (or @file, or - for standard input), e.g. \'{"uri":"amqp://guest:guest@127.0.0.1:5672","routingKey":"orders"}\'')
    .option('--uid <uid>', 'your own unique id for it')
    .option('--batch-size <n>', 'most events in one delivery (1-1000)', count)
    .option('--max-wait <seconds>', 'longest a partial batch waits (0-300)', count)
    .option('--event-types <types>', 'only these event types (comma-separated or repeated)', list)
    .option('--disabled', 'create it disabled')
    .action(async (stream: string, o: { type: string; config?: string; uid?: string; batchSize?: number; maxWait?: number; eventTypes?: string[]; disabled?: boolean }, c: Command) => {
      const config = o.config === undefined ? {} : await jsonObjectArg(o.config, '--config');
      const body = { type: o.type, config, uid: o.uid, batchSize: o.batchSize, maxWaitSecs: o.maxWait, eventTypes: o.eventTypes, status: o.disabled ? 'disabled' : undefined };
      const s = await clientOf(c).request<SinkOut>('POST', sinkPath(stream), { body });
      print(io, jsonOf(c), s, () => `${s.id}\n`);
    });

  apiCommand(cmd, 'delete <stream> <sink>', 'delete a sink').action(async (stream: string, sink: string, _o, c: Command) => {
    await clientOf(c).request('DELETE', sinkPath(stream, sink));
    print(io, jsonOf(c), { deleted: sink }, () => `deleted ${sink}\n`);
  });

  for (const [name, status, text] of [
    ['enable', 'enabled', 'deliver again (clears a failure)'],
    ['disable', 'disabled', 'stop delivering; events wait in the stream'],
  ] as const) {
    apiCommand(cmd, `${name} <stream> <sink>`, `${text}`).action(async (stream: string, sink: string, _o, c: Command) => {
      const s = await clientOf(c).request<SinkOut>('PATCH', sinkPath(stream, sink), { body: { status } });
      print(io, jsonOf(c), s, () => `${s.id}  ${s.status}\n`);
    });
  }

  withPaging(apiCommand(cmd, 'attempts <stream> <sink>', "a sink's delivery attempts, newest first")).action(
    async (stream: string, sink: string, o: { limit?: number; all?: boolean }, c: Command) => {
      const rows = await collect(clientOf(c).items<AttemptOut>(`${sinkPath(stream, sink)}/attempt`, {}, maxOf(o)));
      print(io, jsonOf(c), rows, () => table(rows, attemptColumns));
    },
  );

  apiCommand(cmd, 'replay <stream> <sink>', 'deliver again from a time or an iterator (moves the sink back)')
    .option('--since <time>', 'from this time: RFC 3339 or a duration ago (30m, 12h, 7d)', (v: string) => when(v))
    .option('--iterator <iterator>', 'from just after this iterator (an attempt\u2019s firstIterator, or a sink\u2019s currentIterator)')
    .action(async (stream: string, sink: string, o: { since?: string; iterator?: string }, c: Command) => {
      if ((o.since === undefined) === (o.iterator === undefined)) throw new CliError('give one of --since or --iterator', EXIT.usage);
      const r = await clientOf(c).request<{ currentIterator: string }>('POST', `${sinkPath(stream, sink)}/replay`, { body: { since: o.since, iterator: o.iterator } });
      print(io, jsonOf(c), r, () => `${sink} moved back to iterator ${r.currentIterator}\n`);
    });

  return cmd;
}

/** The `streams` command and its subcommands. */
export function streamsCommand(io: Io = stdio): Command {
  const cmd = new Command('streams').alias('stream').description('manage streams: ordered event logs delivered to sinks (brokers, HTTP, pollers)');

  withPaging(apiCommand(cmd, 'list', 'list streams')).action(async (o: { limit?: number; all?: boolean }, c: Command) => {
    const rows = await collect(clientOf(c).items<StreamOut>(streamPath(), {}, maxOf(o)));
    print(io, jsonOf(c), rows, () => table(rows, streamColumns));
  });

  apiCommand(cmd, 'create', 'create a stream')
    .requiredOption('--name <name>', 'a name')
    .option('--uid <uid>', 'your own unique id for it')
    .option('--description <text>', 'a description')
    .action(async (o: { name: string; uid?: string; description?: string }, c: Command) => {
      const s = await clientOf(c).request<StreamOut>('POST', streamPath(), { body: { name: o.name, uid: o.uid, description: o.description } });
      print(io, jsonOf(c), s, () => `${s.id}\n`);
    });

  apiCommand(cmd, 'get <stream>', 'show a stream (id or uid)').action(async (stream: string, _o, c: Command) => {
    const s = await clientOf(c).request<StreamOut>('GET', streamPath(stream));
    print(io, jsonOf(c), s, () => record({ ...s }));
  });

  apiCommand(cmd, 'delete <stream>', 'delete a stream, its sinks and its events').action(async (stream: string, _o, c: Command) => {
    await clientOf(c).request('DELETE', streamPath(stream));
    print(io, jsonOf(c), { deleted: stream }, () => `deleted ${stream}\n`);
  });

  apiCommand(cmd, 'send <stream>', 'append an event to a stream')
    .requiredOption('--type <eventType>', 'its event type')
    .requiredOption('--data <json>', 'its payload as JSON (or @file, or - for standard input)')
    .action(async (stream: string, o: { type: string; data: string }, c: Command) => {
      const text = o.data === '-' || o.data.startsWith('@') ? JSON.stringify(await jsonArg(o.data, '--data')) : o.data;
      parseJsonArg(text, '--data');
      await clientOf(c).request('POST', `${streamPath(stream)}/events`, { body: { events: [{ eventType: o.type, payload: text }] } });
      print(io, jsonOf(c), { sent: 1 }, () => 'sent\n');
    });

  apiCommand(cmd, 'events <stream> <sink>', "read a poller sink's events (JSON lines with --json)")
    .option('--iterator <iterator>', 'after this iterator (default: where the sink last read; the sink follows)')
    .option('--after <time>', 'after this time: RFC 3339 or a duration ago (30m, 12h, 7d)', (v: string) => when(v))
    .option('--follow', 'keep waiting for new events')
    .option('--limit <n>', 'events per request (1-250, default 50)', count)
    .action(async (stream: string, sink: string, o: { iterator?: string; after?: string; follow?: boolean; limit?: number }, c: Command) => {
      const client = clientOf(c);
      const json = jsonOf(c);
      let query: Record<string, string | number | undefined> = { iterator: o.iterator, after: o.iterator === undefined ? o.after : undefined, limit: o.limit };
      for (;;) {
        const page = await client.request<{ data: EventOut[]; iterator: string; done: boolean }>('GET', `${sinkPath(stream, sink)}/events`, { query });
        for (const e of page.data) io.out(json ? JSON.stringify(e) + '\n' : eventLine(e));
        query = { iterator: page.iterator, limit: o.limit };
        if (page.done && !o.follow) {
          if (!json) io.err(`iterator: ${page.iterator}\n`);
          return;
        }
        if (page.done) await new Promise((r) => setTimeout(r, 1000));
      }
    });

  cmd.addCommand(sinksCommand(io));
  return cmd;
}
