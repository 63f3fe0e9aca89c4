/** `switchboard serve`: runs the HTTP API and the dispatcher until SIGTERM/SIGINT. */
import { loadConfig } from '../config.js';
import { createSwitchboard } from '../server.js';

export async function serve(): Promise<void> {
  const config = loadConfig();
  const sb = await createSwitchboard(config);
  const url = await sb.listen();
  sb.app.log.info({ url, dataDir: config.dataDir, durability: config.durability }, 'Switchboard is listening');
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
