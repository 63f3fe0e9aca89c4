/** `switchboard send`: publish one message. */
import { Command } from 'commander';
import { seg } from './client.js';
import { asJsonObject, clientOf, jsonArg, jsonOf, list } from './common.js';
import { print, stdio } from './output.js';
import type { Io } from './output.js';

/** The `send` command (also `message send`). */
export function sendCommand(io: Io = stdio, name = 'send'): Command {
  return new Command(name)
    .arguments('<app> <event-type> [payload]')
    .description('publish a message: its JSON payload inline, @file, or - for stdin (default {})')
    .option('--event-id <id>', 'your unique id for it (a second message with it is refused)')
    .option('--channels <channels>', 'channels (comma-separated or repeated)', list)
    .option('--tags <tags>', 'tags (comma-separated or repeated)', list)
    .option('--idempotency-key <key>', 'retrying with the same key never publishes twice')
    .action(async (app: string, eventType: string, payload: string | undefined, o: { eventId?: string; channels?: string[]; tags?: string[]; idempotencyKey?: string }, c: Command) => {
      const body = payload === undefined ? {} : asJsonObject(await jsonArg(payload, 'the payload'), 'the payload');
      const m = await clientOf(c).request<{ id: string }>('POST', `/api/v1/app/${seg(app)}/msg`, {
        body: { eventType, eventId: o.eventId, channels: o.channels, tags: o.tags, payload: body },
        headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {},
      });
      print(io, jsonOf(c), m, () => `${m.id}\n`);
    });
}
