/**
 * `switchboard sources ...`: manage ingest sources (provider webhooks, polling and cron
 * sources) and their endpoints through the HTTP API.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { apiOptions, clientOf } from './common.js';

export interface SourcesIo {
  out: (text: string) => void;
}

const enc = encodeURIComponent;

function parseConfig(opts: { config?: string; configFile?: string; secret?: string }): Record<string, unknown> {
  let config: Record<string, unknown> = {};
  const text = opts.configFile ? readFileSync(opts.configFile, 'utf8') : opts.config;
  if (text) {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('--config must be a JSON object');
    config = v as Record<string, unknown>;
  }
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
}

function line(s: SourceOut): string {
  const where = s.ingestUrl ?? (s.run ? `next run ${s.run.nextRunAt}${s.run.lastOutcome ? `, last: ${s.run.lastOutcome}` : ''}${s.run.lastError ? ` (${s.run.lastError})` : ''}` : '');
  return `${s.id}  ${s.type.padEnd(16)} ${s.name}${s.uid ? ` [${s.uid}]` : ''}  ${where}\n`;
}

/** The `sources` command and its subcommands. */
export function sourcesCommand(io: SourcesIo = { out: (t) => void process.stdout.write(t) }): Command {
  const cmd = new Command('sources').description('manage ingest sources: provider webhooks in, polled APIs and schedules as events');
  // The server, token and config file as for every command that talks to a server.
  const call = (c: Command, method: string, path: string, body?: unknown): Promise<unknown> => clientOf(c).request(method, path, { body });
  const withConn = apiOptions;
  const print = (c: Command, value: unknown, text: () => string): void => io.out(c.opts<{ json?: boolean }>().json ? JSON.stringify(value, null, 2) + '\n' : text());

  withConn(cmd.command('list').description('list sources')).action(async (_o, c: Command) => {
    const page = (await call(c, 'GET', '/ingest/api/v1/source?limit=250')) as { data: SourceOut[] };
    print(c, page.data, () => page.data.map(line).join(''));
  });

  withConn(cmd.command('get <source>').description('show a source (id or uid)')).action(async (id: string, _o, c: Command) => {
    const s = await call(c, 'GET', `/ingest/api/v1/source/${enc(id)}`);
    io.out(JSON.stringify(s, null, 2) + '\n');
  });

  withConn(
    cmd
      .command('create')
      .description('create a source; its ingest URL is printed')
      .requiredOption('--type <type>', 'stripe, github, shopify, slack, twilio, svix, standard-webhooks, generic-webhook, generic-hmac, basic-auth, bearer, poll, cron, ...')
      .requiredOption('--name <name>', 'a name')
      .option('--uid <uid>', 'your own identifier')
      .option('--secret <secret>', 'the provider\u2019s signing secret (config.secret)')
      .option('--config <json>', 'the config as JSON, e.g. \'{"url":"https://api.example.com/items","items":"data"}\'')
      .option('--config-file <path>', 'the config from a JSON file'),
  ).action(async (o: { type: string; name: string; uid?: string; secret?: string; config?: string; configFile?: string }, c: Command) => {
    const s = (await call(c, 'POST', '/ingest/api/v1/source', { type: o.type, name: o.name, uid: o.uid, config: parseConfig(o) })) as SourceOut;
    print(c, s, () => line(s));
  });

  withConn(cmd.command('delete <source>').description('delete a source, its endpoints and its messages')).action(async (id: string, _o, c: Command) => {
    await call(c, 'DELETE', `/ingest/api/v1/source/${enc(id)}`);
    io.out(`deleted ${id}\n`);
  });

  withConn(cmd.command('rotate-token <source>').description('new ingest URL; the old one works for 48 hours')).action(async (id: string, _o, c: Command) => {
    const r = (await call(c, 'POST', `/ingest/api/v1/source/${enc(id)}/token/rotate`)) as { ingestUrl: string };
    print(c, r, () => r.ingestUrl + '\n');
  });

  withConn(cmd.command('logs <source>').description('rejected requests, newest first').option('--limit <n>', 'how many', '50')).action(
    async (id: string, o: { limit: string }, c: Command) => {
      const page = (await call(c, 'GET', `/ingest/api/v1/source/${enc(id)}/log?limit=${enc(o.limit)}`)) as { data: { created_at: string; status_code: number; error_text: string }[] };
      print(c, page.data, () => page.data.map((l) => `${l.created_at}  ${l.status_code}  ${l.error_text}\n`).join(''));
    },
  );

  withConn(cmd.command('endpoints <source>').description('list where a source forwards to')).action(async (id: string, _o, c: Command) => {
    const page = (await call(c, 'GET', `/ingest/api/v1/source/${enc(id)}/endpoint?limit=250`)) as { data: { id: string; url: string; throttleRate?: number; disabled?: boolean }[] };
    print(c, page.data, () => page.data.map((e) => `${e.id}  ${e.url}${e.throttleRate ? `  ${e.throttleRate}/s` : ''}${e.disabled ? '  (disabled)' : ''}\n`).join(''));
  });

  withConn(
    cmd
      .command('add-endpoint <source> <url>')
      .description('forward the source\u2019s events to a URL')
      .option('--rate <n>', 'at most this many requests per second')
      .option('--uid <uid>', 'your own identifier'),
  ).action(async (id: string, url: string, o: { rate?: string; uid?: string }, c: Command) => {
    const ep = (await call(c, 'POST', `/ingest/api/v1/source/${enc(id)}/endpoint`, { url, uid: o.uid, throttleRate: o.rate ? Number(o.rate) : undefined })) as { id: string };
    const secret = (await call(c, 'GET', `/ingest/api/v1/source/${enc(id)}/endpoint/${enc(ep.id)}/secret`)) as { key: string };
    print(c, { ...ep, secret: secret.key }, () => `${ep.id}  ${url}\nsigning secret: ${secret.key}\n`);
  });

  return cmd;
}
