/** The `switchboard` command line. */
import { Command } from 'commander';
import { SETTINGS, loadConfig } from '../config.js';
import { serve } from './serve.js';

export function program(): Command {
  const p = new Command('switchboard').description('Self-hosted webhooks-and-events gateway').version('0.1.0');
  p.command('serve', { isDefault: true })
    .description('run the HTTP API and the delivery engine (settings from SWITCHBOARD_* environment variables)')
    .action(serve);
  p.command('config')
    .description('print the effective settings')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const c = loadConfig();
      const effective: Record<string, string> = {};
      for (const s of SETTINGS) {
        const v = process.env[s.env];
        effective[s.env] = s.env === 'SWITCHBOARD_ADMIN_TOKEN' ? (v ? '(set)' : '(generated)') : v || s.default;
      }
      void c;
      if (opts.json) process.stdout.write(JSON.stringify(effective, null, 2) + '\n');
      else for (const [k, v] of Object.entries(effective)) process.stdout.write(`${k.padEnd(36)} ${v}\n`);
    });
  return p;
}
