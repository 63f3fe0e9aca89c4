/** `switchboard message ...` and `switchboard attempt ...`: messages, their deliveries and attempts. */
import { Command, Option } from 'commander';
import { seg } from './client.js';
import { apiCommand, clientOf, collect, jsonOf, list, maxOf, readStdin, when, withPaging } from './common.js';
import { CliError, EXIT } from './exit-codes.js';
import { print, record, stdio, table } from './output.js';
import type { Io } from './output.js';
import { ProgressBar } from './progress.js';
import { sendCommand } from './send.js';

interface MessageOut {
  id: string;
  eventType: string;
  eventId?: string;
  channels?: string[];
  tags?: string[];
  payload: unknown;
  timestamp: string;
  statusText?: string;
}

interface AttemptOut {
  id: string;
  msgId: string;
  endpointId: string;
  url: string;
  statusText: string;
  responseStatusCode: number;
  responseDurationMs: number;
  triggerType: number;
  timestamp: string;
  response: string;
}

const STATUS = { success: 0, pending: 1, fail: 2, sending: 3 } as const;
type StatusName = keyof typeof STATUS;

const messageColumns = [
  { header: 'id', value: (m: MessageOut) => m.id },
  { header: 'event type', value: (m: MessageOut) => m.eventType },
  { header: 'event id', value: (m: MessageOut) => m.eventId },
  { header: 'channels', value: (m: MessageOut) => m.channels },
  { header: 'time', value: (m: MessageOut) => m.timestamp },
];

const attemptColumns = [
  { header: 'id', value: (a: AttemptOut) => a.id },
  { header: 'message', value: (a: AttemptOut) => a.msgId },
  { header: 'endpoint', value: (a: AttemptOut) => a.endpointId },
  { header: 'status', value: (a: AttemptOut) => a.statusText },
  { header: 'code', value: (a: AttemptOut) => a.responseStatusCode },
  { header: 'ms', value: (a: AttemptOut) => a.responseDurationMs },
  { header: 'trigger', value: (a: AttemptOut) => (a.triggerType === 1 ? 'manual' : 'scheduled') },
  { header: 'time', value: (a: AttemptOut) => a.timestamp },
];

const statusOption = () => new Option('--status <status>', 'only this delivery status').choices(Object.keys(STATUS));

/** The `message` command and its subcommands. */
export function messagesCommand(io: Io = stdio): Command {
  const cmd = new Command('message').alias('messages').alias('msg').description('list, read, resend and expunge messages');

  withPaging(apiCommand(cmd, 'list <app>', 'list messages, newest first'))
    .option('--event-types <types>', 'only these event types (comma-separated or repeated)', list)
    .option('--channel <channel>', 'only this channel')
    .option('--tag <tag>', 'only this tag')
    .option('--after <time>', 'created after this time (date-time or duration ago: 30m, 12h, 7d)', (v) => when(v))
    .option('--before <time>', 'created before this time', (v) => when(v))
    .action(async (app: string, o: { limit?: number; all?: boolean; eventTypes?: string[]; channel?: string; tag?: string; after?: string; before?: string }, c: Command) => {
      const query = { event_types: o.eventTypes, channel: o.channel, tag: o.tag, after: o.after, before: o.before, with_content: jsonOf(c) };
      const msgs = await collect(clientOf(c).items<MessageOut>(`/api/v1/app/${seg(app)}/msg`, query, maxOf(o)));
      print(io, jsonOf(c), msgs, () => table(msgs, messageColumns));
    });

  apiCommand(cmd, 'get <app> <message>', 'show a message (id or eventId) with its payload').action(async (app: string, msg: string, _o, c: Command) => {
    const m = await clientOf(c).request<MessageOut>('GET', `/api/v1/app/${seg(app)}/msg/${seg(msg)}`);
    print(io, jsonOf(c), m, () => record({ ...m, payload: JSON.stringify(m.payload) }));
  });

  cmd.addCommand(sendCommand(io, 'send'));

  apiCommand(cmd, 'destinations <app> <message>', 'the endpoints a message went to, with the delivery status').action(async (app: string, msg: string, _o, c: Command) => {
    const rows = await collect(clientOf(c).items<{ id: string; url: string; statusText: string; nextAttempt?: string }>(`/api/v1/app/${seg(app)}/msg/${seg(msg)}/endpoint`, {}, Infinity));
    print(io, jsonOf(c), rows, () =>
      table(rows, [
        { header: 'endpoint', value: (r) => r.id },
        { header: 'url', value: (r) => r.url, max: 50 },
        { header: 'status', value: (r) => r.statusText },
        { header: 'next attempt', value: (r) => r.nextAttempt },
      ]),
    );
  });

  apiCommand(cmd, 'expunge <app> <message>', 'delete the payload of a message (the record stays)').action(async (app: string, msg: string, _o, c: Command) => {
    await clientOf(c).request('DELETE', `/api/v1/app/${seg(app)}/msg/${seg(msg)}/content`);
    print(io, jsonOf(c), { expunged: msg }, () => `expunged the content of ${msg}\n`);
  });

  apiCommand(cmd, 'resend <app> [messages...]', 'send messages to an endpoint again: the ids given, read from stdin (-), or every one with --status in a window')
    .requiredOption('--endpoint <endpoint>', 'the endpoint to send them to')
    .addOption(statusOption())
    .option('--since <time>', 'with --status: messages created after this time (date-time or duration ago)', (v) => when(v))
    .option('--until <time>', 'with --status: messages created before this time', (v) => when(v))
    .option('--no-progress', 'no progress bar')
    .action(async (app: string, ids: string[], o: { endpoint: string; status?: StatusName; since?: string; until?: string; progress?: boolean }, c: Command) => {
      const client = clientOf(c);
      let targets = ids;
      if (ids.length === 1 && ids[0] === '-') targets = (await readStdin()).split(/\s+/).filter(Boolean);
      if (o.status !== undefined) {
        if (targets.length > 0) throw new CliError('give message ids or --status, not both', EXIT.usage);
        const found = client.items<MessageOut>(`/api/v1/app/${seg(app)}/endpoint/${seg(o.endpoint)}/msg`, {
          status: STATUS[o.status],
          after: o.since,
          before: o.until,
          with_content: false,
        });
        for await (const m of found) targets.push(m.id);
      }
      if (targets.length === 0) throw new CliError('no messages to resend: give ids, - for stdin, or --status', EXIT.usage);
      const bar = new ProgressBar(targets.length, 'resending', process.stderr, o.progress === false ? false : undefined);
      const failed: { id: string; error: string }[] = [];
      for (const id of targets) {
        try {
          await client.request('POST', `/api/v1/app/${seg(app)}/msg/${seg(id)}/endpoint/${seg(o.endpoint)}/resend`);
        } catch (e: unknown) {
          if (e instanceof CliError && e.exitCode !== EXIT.notFound) throw e;
          failed.push({ id, error: (e as Error).message });
        }
        bar.tick();
      }
      bar.finish();
      const result = { resent: targets.length - failed.length, failed };
      print(io, jsonOf(c), result, () => `resent ${result.resent} message(s) to ${o.endpoint}\n` + failed.map((f) => `not resent ${f.id}: ${f.error}\n`).join(''));
      if (failed.length > 0) throw new CliError(`${failed.length} message(s) not found`, EXIT.notFound);
    });
  return cmd;
}

/** The `attempt` command and its subcommands. */
export function attemptsCommand(io: Io = stdio): Command {
  const cmd = new Command('attempt').alias('attempts').description('delivery attempts: one HTTP request of a message to an endpoint, with the response');

  withPaging(apiCommand(cmd, 'list <app>', 'list attempts of a message (--msg) or of an endpoint (--endpoint), newest first'))
    .option('--msg <message>', 'attempts of this message')
    .option('--endpoint <endpoint>', 'attempts to this endpoint (with --msg: only to it)')
    .addOption(statusOption())
    .action(async (app: string, o: { limit?: number; all?: boolean; msg?: string; endpoint?: string; status?: StatusName }, c: Command) => {
      const status = o.status === undefined ? undefined : STATUS[o.status];
      let path: string;
      let query: Record<string, string | number | undefined> = { status };
      if (o.msg) {
        path = `/api/v1/app/${seg(app)}/attempt/msg/${seg(o.msg)}`;
        query = { ...query, endpoint_id: o.endpoint };
      } else if (o.endpoint) path = `/api/v1/app/${seg(app)}/attempt/endpoint/${seg(o.endpoint)}`;
      else throw new CliError('give --msg or --endpoint', EXIT.usage);
      const rows = await collect(clientOf(c).items<AttemptOut>(path, query, maxOf(o)));
      print(io, jsonOf(c), rows, () => table(rows, attemptColumns));
    });

  apiCommand(cmd, 'get <app> <message> <attempt>', 'show an attempt with the response body').action(async (app: string, msg: string, attempt: string, _o, c: Command) => {
    const a = await clientOf(c).request<AttemptOut>('GET', `/api/v1/app/${seg(app)}/msg/${seg(msg)}/attempt/${seg(attempt)}`);
    print(io, jsonOf(c), a, () => record({ ...a }));
  });

  apiCommand(cmd, 'expunge <app> <message> <attempt>', 'delete the stored response body of an attempt').action(async (app: string, msg: string, attempt: string, _o, c: Command) => {
    await clientOf(c).request('DELETE', `/api/v1/app/${seg(app)}/msg/${seg(msg)}/attempt/${seg(attempt)}/content`);
    print(io, jsonOf(c), { expunged: attempt }, () => `expunged the response of ${attempt}\n`);
  });
  return cmd;
}
