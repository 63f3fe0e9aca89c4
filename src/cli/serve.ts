/** `switchboard serve`: runs the HTTP API and the dispatcher until SIGTERM/SIGINT. */
import { loadConfig } from '../config.js';
import { createSwitchboard } from '../composition/server.js';
import { UnwritableDataDirError } from '../composition/data-dir.js';
import { CliError, EXIT } from './exit-codes.js';

export async function serve(opts: { role?: string } = {}): Promise<void> {
  const config = loadConfig(opts.role ? { ...process.env, SWITCHBOARD_ROLE: opts.role } : process.env);
  const sb = await createSwitchboard(config).catch((e: unknown) => {
    throw e instanceof UnwritableDataDirError ? new CliError(e.message, EXIT.dataDirUnwritable) : e;
  });
  const url = await sb.listen();
  const storage = config.databaseUrl ? 'postgresql' : 'sqlite';
  // The web dashboard, at an address a browser on this machine can open.
  const dashboard = url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=[:/]|$)/, '//localhost') + '/ui/';
  sb.app.log.info({ url, dashboard, dataDir: config.dataDir, durability: config.durability, storage, role: config.role }, 'Switchboard is listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    sb.app.log.info({ signal }, 'shutting down');
    sb.close().then(
      () => process.exit(0),
      (e: unknown) => {
        sb.app.log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
