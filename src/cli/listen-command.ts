/**
 * The `listen` command's options and checks; the listener itself (listen.ts) is loaded only when
 * the command runs, so that every other command starts without its HTTP client.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveConnection } from './client.js';
import { connectionFlags, when } from './common.js';
import { CliError, EXIT } from './exit-codes.js';

/** The default state file. */
export function defaultStatePath(): string {
  return join(homedir(), '.switchboard', 'listen.json');
}

/** Adds `listen` to the command line. */
export function registerListen(program: Command): void {
  program
    .command('listen')
    .description("forward an application's messages to a local URL as signed webhooks (for development)")
    .requiredOption('--app <app>', 'application id or uid')
    .requiredOption('--forward-to <url>', 'local URL that receives each message (POST)')
    .option('--types <types>', 'only these event types, comma-separated')
    .option('--channel <channel>', 'only messages on this channel')
    .option('--state <file>', 'file keeping the signing secret and the position', defaultStatePath())
    .option('--transport <transport>', 'auto (stream, long polling if streams do not get through), sse or poll', 'auto')
    .option('--from-now', 'ignore the saved position and start with messages published from now on')
    .option('--since <time>', 'ignore the saved position and start with messages published since this time (2024-05-01T12:00:00Z, or a duration ago: 30m, 12h, 7d)', (v: string) => when(v))
    .action(async (opts: { app: string; forwardTo: string; types?: string; channel?: string; state: string; transport: string; fromNow?: boolean; since?: string }, cmd: Command) => {
      // The token must be able to read the application; --server and --token are the global ones.
      const { server, token } = resolveConnection(connectionFlags(cmd));
      if (!token) throw new CliError('a token is needed: pass --token, set SWITCHBOARD_TOKEN, or run `switchboard login`', EXIT.auth);
      if (!/^https?:\/\//.test(opts.forwardTo)) throw new CliError('--forward-to must be an http:// or https:// URL', EXIT.usage);
      if (!['auto', 'sse', 'poll'].includes(opts.transport)) throw new CliError('--transport must be auto, sse or poll', EXIT.usage);
      if (opts.fromNow && opts.since !== undefined) throw new CliError('--from-now and --since choose the start both: give one', EXIT.usage);
      // Loaded here: the forwarding client (undici) is not needed to start any other command.
      const { Listener, FatalError } = await import('./listen.js');
      const listener = new Listener(
        {
          app: opts.app,
          forwardTo: opts.forwardTo,
          types: (opts.types ?? '').split(',').map((s) => s.trim()).filter(Boolean),
          channel: opts.channel,
          server,
          token,
          state: opts.state,
          transport: opts.transport as 'auto' | 'sse' | 'poll',
          fromNow: opts.fromNow ?? false,
          since: opts.since,
        },
        (line) => process.stdout.write(line + '\n'),
      );
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await listener.run(ac.signal);
      } catch (e: unknown) {
        if (e instanceof FatalError) throw new Error(e.message);
        throw e;
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
    });
}
