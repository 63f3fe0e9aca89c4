/** `switchboard operational-webhook ...`: the operator's endpoints for events about Switchboard itself. */
import { Command } from 'commander';
import { seg } from './client.js';
import { apiCommand, clientOf, collect, jsonOf, list, maxOf, withPaging } from './common.js';
import { print, record, stdio, table } from './output.js';
import type { Io } from './output.js';

interface OpEndpointOut {
  id: string;
  uid?: string;
  url: string;
  description: string;
  disabled?: boolean;
  filterTypes?: string[];
  createdAt: string;
}

const BASE = '/api/v1/operational-webhook/endpoint';
const TYPES = 'endpoint.disabled, endpoint.enabled, message.attempt.exhausted, message.attempt.failing, message.attempt.recovered, ordering.key.paused, storage.degraded, storage.recovered';

interface Flags {
  url?: string;
  uid?: string;
  description?: string;
  eventTypes?: string[];
  disabled?: boolean;
}

const flags = (c: Command): Command =>
  c
    .option('--uid <uid>', 'your own unique id for it')
    .option('--description <text>', 'a description')
    .option('--event-types <types>', `only these events (comma-separated or repeated): ${TYPES}`, list)
    .option('--disabled', 'send nothing to it for now');

const body = (o: Flags) => ({ url: o.url, uid: o.uid, description: o.description, filterTypes: o.eventTypes, disabled: o.disabled });

/** The `operational-webhook` command and its subcommands. */
export function operationalWebhooksCommand(io: Io = stdio): Command {
  const cmd = new Command('operational-webhook').alias('operational-webhooks').description(`manage the endpoints that receive events about Switchboard itself (${TYPES})`);

  withPaging(apiCommand(cmd, 'list', 'list operational webhook endpoints')).action(async (o: { limit?: number; all?: boolean }, c: Command) => {
    const rows = await collect(clientOf(c).items<OpEndpointOut>(BASE, {}, maxOf(o)));
    print(io, jsonOf(c), rows, () =>
      table(rows, [
        { header: 'id', value: (e) => e.id },
        { header: 'uid', value: (e) => e.uid },
        { header: 'url', value: (e) => e.url, max: 50 },
        { header: 'events', value: (e) => e.filterTypes ?? 'all', max: 50 },
        { header: 'disabled', value: (e) => (e.disabled ? 'yes' : '') },
      ]),
    );
  });

  apiCommand(cmd, 'get <endpoint>', 'show one').action(async (ep: string, _o, c: Command) => {
    const e = await clientOf(c).request<OpEndpointOut>('GET', `${BASE}/${seg(ep)}`);
    print(io, jsonOf(c), e, () => record({ ...e }));
  });

  flags(apiCommand(cmd, 'create', 'add an operational webhook endpoint'))
    .requiredOption('--url <url>', 'where events are sent')
    .option('--secret <whsec>', 'signing secret (default: generated)')
    .action(async (o: Flags & { secret?: string }, c: Command) => {
      const e = await clientOf(c).request<OpEndpointOut>('POST', BASE, { body: { ...body(o), secret: o.secret } });
      print(io, jsonOf(c), e, () => `${e.id}\n`);
    });

  flags(apiCommand(cmd, 'update <endpoint>', 'replace its settings (the URL is required; the secret is kept)'))
    .requiredOption('--url <url>', 'where events are sent')
    .action(async (ep: string, o: Flags, c: Command) => {
      const e = await clientOf(c).request<OpEndpointOut>('PUT', `${BASE}/${seg(ep)}`, { body: body(o) });
      print(io, jsonOf(c), e, () => record({ ...e }));
    });

  apiCommand(cmd, 'delete <endpoint>', 'delete one').action(async (ep: string, _o, c: Command) => {
    await clientOf(c).request('DELETE', `${BASE}/${seg(ep)}`);
    print(io, jsonOf(c), { deleted: ep }, () => `deleted ${ep}\n`);
  });

  apiCommand(cmd, 'secret <endpoint>', 'print its signing secret').action(async (ep: string, _o, c: Command) => {
    const s = await clientOf(c).request<{ key: string }>('GET', `${BASE}/${seg(ep)}/secret`);
    print(io, jsonOf(c), s, () => `${s.key}\n`);
  });

  apiCommand(cmd, 'rotate-secret <endpoint>', 'replace its signing secret')
    .option('--key <whsec>', 'the new secret (default: generated)')
    .action(async (ep: string, o: { key?: string }, c: Command) => {
      await clientOf(c).request('POST', `${BASE}/${seg(ep)}/secret/rotate`, { body: { key: o.key } });
      print(io, jsonOf(c), { rotated: ep }, () => `rotated the secret of ${ep}\n`);
    });
  return cmd;
}
