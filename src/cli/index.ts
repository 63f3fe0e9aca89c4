/** The `switchboard` command line. */
import { Command } from 'commander';
import { SETTINGS, loadConfig } from '../config.js';
import { keysCommand } from './keys.js';
import { SECRET_SETTINGS } from '../config-security.js';
import { registerListen } from './listen-command.js';
import { sourcesCommand } from './sources.js';
import { streamsCommand } from './streams.js';
import { applicationsCommand } from './applications.js';
import { endpointsCommand } from './endpoints.js';
import { eventTypesCommand } from './event-types.js';
import { loginCommands } from './login.js';
import { attemptsCommand, messagesCommand } from './messages.js';
import { operationalWebhooksCommand } from './operational-webhooks.js';
import { sendCommand } from './send.js';
import { tasksCommand } from './tasks.js';
import { verifyCommand } from './verify.js';
import { connectionFlags, globalOptions, jsonOf } from './common.js';
import { CliError, EXIT } from './exit-codes.js';
import { VERSION } from '../platform/version.js';

export function program(): Command {
  const p = globalOptions(new Command('switchboard').description('Self-hosted webhooks-and-events gateway').version(VERSION));
  p.command('serve', { isDefault: true })
    .description('run the HTTP API and the delivery engine (settings from SWITCHBOARD_* environment variables)')
    .option('--role <role>', 'all (API and delivery), api (API only) or worker (delivery only); default SWITCHBOARD_ROLE or all')
    .option('--dev', 'development mode (what `npm start` runs): receivers on loopback (127.0.0.0/8, ::1/128) are allowed unless SWITCHBOARD_ALLOWED_NETWORKS says otherwise; a weak admin token is only warned about')
    // Loaded on use: the server's modules would slow every other command's start.
    .action(async (opts: { role?: string; dev?: boolean }, cmd: Command) => {
      // serve is the default command: `switchboard --server URL` with no command lands here.
      const { server, token } = connectionFlags(cmd);
      if (server !== undefined || token !== undefined) throw new CliError('--server and --token are for the commands that talk to a server; give one (e.g. `switchboard --server URL app list`)', EXIT.usage);
      await (await import('./serve.js')).serve(opts);
    });
  p.command('migrate')
    .description('apply pending database migrations and exit (PostgreSQL when SWITCHBOARD_DATABASE_URL is set, else the SQLite file)')
    .action(async () => (await import('./migrate.js')).migrate());
  // Commands that talk to a server (--server/--token/--json, env, or `switchboard login`).
  for (const c of loginCommands()) p.addCommand(c);
  p.addCommand(sendCommand());
  p.addCommand(verifyCommand());
  p.addCommand(applicationsCommand());
  p.addCommand(eventTypesCommand());
  p.addCommand(endpointsCommand());
  p.addCommand(messagesCommand());
  p.addCommand(attemptsCommand());
  p.addCommand(operationalWebhooksCommand());
  p.addCommand(tasksCommand());
  p.addCommand(keysCommand());
  registerListen(p);
  p.addCommand(sourcesCommand());
  p.addCommand(streamsCommand());
  p.command('config')
    .description('print the effective settings (--json for JSON)')
    .action((_o: unknown, cmd: Command) => {
      const c = loadConfig();
      const effective: Record<string, string> = {};
      for (const s of SETTINGS) {
        const v = process.env[s.env];
        effective[s.env] = SECRET_SETTINGS.has(s.env) ? (v ? '(set)' : '(generated)') : (v || s.default).replace(/\/\/([^/:@]*):[^/@]*@/, '//$1:***@');
        // A database password is never printed.
        if (s.env === 'SWITCHBOARD_DATABASE_URL' && v) effective[s.env] = v.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
      }
      void c;
      if (jsonOf(cmd)) process.stdout.write(JSON.stringify(effective, null, 2) + '\n');
      else for (const [k, v] of Object.entries(effective)) process.stdout.write(`${k.padEnd(36)} ${v}\n`);
    });
  // Every command, however added: errors reach main.ts (exit codes) and suggest --help, and
  // each command's help lists the global options it accepts.
  const configure = (c: Command): void => {
    c.exitOverride().showHelpAfterError('(add --help for usage)').configureHelp({ showGlobalOptions: true });
    c.commands.forEach(configure);
  };
  configure(p);
  return p;
}
