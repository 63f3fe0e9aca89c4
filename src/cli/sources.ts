/**
 * `switchboard sources ...`: manage ingest sources (provider webhooks, polling, cron and
 * queue sources) and their endpoints through the HTTP API.
 */
import { Command } from 'commander';
import { asJsonObject, clientOf, count, jsonOf, parseJsonArg, readFileArg } from './common.js';

export interface SourcesIo {
  out: (text: string) => void;
}

const enc = encodeURIComponent;

function parseConfig(opts: { config?: string; configFile?: string; secret?: string }): Record<string, unknown> {
  let config: Record<string, unknown> = {};
  const what = opts.configFile ? '--config-file' : '--config';
  const text = opts.configFile ? readFileArg(opts.configFile, what) : opts.config;
  if (text) config = asJsonObject(parseJsonArg(text, what), what);
  if (opts.secret) config.secret = opts.secret;
  return config;
}

interface SourceOut {
  id: string;
  uid?: string;
  name: string;
  type: string;
  ingestUrl: string | null;
  run?: { lastOutcome: string | null; lastError: string | null; nextRunAt: string };
  consumer?: { connected: boolean; lastError: string | null; consumed: number; deadLettered: number };
}

function consumerLine(c: NonNullable<SourceOut['consumer']>): string {
  return `${c.connected ? 'connected' : 'not connected'}, ${c.consumed} consumed, ${c.deadLettered} dead-lettered${c.lastError ? ` (${c.lastError})` : ''}`;
}

function line(s: SourceOut): string {
  const where = s.ingestUrl ?? (s.run ? `next run ${s.run.nextRunAt}${s.run.lastOutcome ? `, last: ${s.run.lastOutcome}` : ''}${s.run.lastError ? ` (${s.run.lastError})` : ''}` : s.consumer ? consumerLine(s.consumer) : '');
  return `${s.id}  ${s.type.padEnd(16)} ${s.name}${s.uid ? ` [${s.uid}]` : ''}  ${where}\n`;
}

/** The `sources` command and its subcommands. */
export function sourcesCommand(io: SourcesIo = { out: (t) => void process.stdout.write(t) }): Command {
  const cmd = new Command('sources').description('manage ingest sources: provider webhooks in, polled APIs, schedules and queues as events');
  // The server, token and config file as for every command that talks to a server (--server, --token or --json anywhere on the line).
  const call = (c: Command, method: string, path: string, body?: unknown): Promise<unknown> => clientOf(c).request(method, path, { body });
  const print = (c: Command, value: unknown, text: () => string): void => io.out(jsonOf(c) ? JSON.stringify(value, null, 2) + '\n' : text());

  cmd.command('list').description('list sources').action(async (_o, c: Command) => {
    const page = (await call(c, 'GET', '/ingest/api/v1/source?limit=250')) as { data: SourceOut[] };
    print(c, page.data, () => page.data.map(line).join(''));
  });

  cmd.command('get <source>').description('show a source (id or uid)').action(async (id: string, _o, c: Command) => {
    const s = await call(c, 'GET', `/ingest/api/v1/source/${enc(id)}`);
    io.out(JSON.stringify(s, null, 2) + '\n');
  });

  cmd
    .command('create')
    .description('create a source; its ingest URL is printed')
    .requiredOption('--type <type>', 'stripe, github, shopify, slack, twilio, svix, standard-webhooks, generic-webhook, generic-hmac, basic-auth, bearer, poll, cron, rabbitMq, redisStream, natsJetStream, ...')
    .requiredOption('--name <name>', 'a name')
    .option('--uid <uid>', 'your own identifier')
    .option('--secret <secret>', 'the provider\u2019s signing secret (config.secret)')
    .option('--config <json>', 'the config as JSON, e.g. \'{"url":"https://api.example.com/items","items":"data"}\'')
    .option('--config-file <path>', 'the config from a JSON file')
    .action(async (o: { type: string; name: string; uid?: string; secret?: string; config?: string; configFile?: string }, c: Command) => {
      const s = (await call(c, 'POST', '/ingest/api/v1/source', { type: o.type, name: o.name, uid: o.uid, config: parseConfig(o) })) as SourceOut;
      print(c, s, () => line(s));
    });

  cmd.command('delete <source>').description('delete a source, its endpoints and its messages').action(async (id: string, _o, c: Command) => {
    await call(c, 'DELETE', `/ingest/api/v1/source/${enc(id)}`);
    io.out(`deleted ${id}\n`);
  });

  cmd.command('rotate-token <source>').description('new ingest URL; the old one works for 48 hours').action(async (id: string, _o, c: Command) => {
    const r = (await call(c, 'POST', `/ingest/api/v1/source/${enc(id)}/token/rotate`)) as { ingestUrl: string };
    print(c, r, () => r.ingestUrl + '\n');
  });

  cmd.command('logs <source>').description('rejected requests, newest first').option('--limit <n>', 'how many (default 50)', count).action(
    async (id: string, o: { limit?: number }, c: Command) => {
      const page = (await call(c, 'GET', `/ingest/api/v1/source/${enc(id)}/log?limit=${o.limit ?? 50}`)) as { data: { created_at: string; status_code: number; error_text: string }[] };
      print(c, page.data, () => page.data.map((l) => `${l.created_at}  ${l.status_code}  ${l.error_text}\n`).join(''));
    },
  );

  cmd.command('endpoints <source>').description('list where a source forwards to').action(async (id: string, _o, c: Command) => {
    const page = (await call(c, 'GET', `/ingest/api/v1/source/${enc(id)}/endpoint?limit=250`)) as { data: { id: string; url: string; throttleRate?: number; disabled?: boolean }[] };
    print(c, page.data, () => page.data.map((e) => `${e.id}  ${e.url}${e.throttleRate ? `  ${e.throttleRate}/s` : ''}${e.disabled ? '  (disabled)' : ''}\n`).join(''));
  });

  cmd
    .command('add-endpoint <source> <url>')
    .description('forward the source\u2019s events to a URL')
    .option('--rate <n>', 'at most this many requests per second', count)
    .option('--uid <uid>', 'your own identifier')
    .action(async (id: string, url: string, o: { rate?: number; uid?: string }, c: Command) => {
      const ep = (await call(c, 'POST', `/ingest/api/v1/source/${enc(id)}/endpoint`, { url, uid: o.uid, throttleRate: o.rate || undefined })) as { id: string };
      const secret = (await call(c, 'GET', `/ingest/api/v1/source/${enc(id)}/endpoint/${enc(ep.id)}/secret`)) as { key: string };
      print(c, { ...ep, secret: secret.key }, () => `${ep.id}  ${url}\nsigning secret: ${secret.key}\n`);
    });

  return cmd;
}
