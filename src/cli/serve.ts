/** `switchboard serve`: runs the HTTP API and the dispatcher until SIGTERM/SIGINT. */
import { loadConfig } from '../config.js';
import { createSwitchboard } from '../composition/server.js';
import { UnwritableDataDirError } from '../composition/data-dir.js';
import { limitHeapGrowth } from '../platform/heap-growth.js';
import { isPretty } from '../platform/logger.js';
import { VERSION } from '../platform/version.js';
import { bannerText, browsableUrl } from './banner.js';
import { serveEnvironment } from './dev-mode.js';
import { CliError, EXIT } from './exit-codes.js';

export async function serve(opts: { role?: string; dev?: boolean } = {}): Promise<void> {
  const config = loadConfig(serveEnvironment(process.env, opts));
  limitHeapGrowth(config.heapGrowthPercent);
  const sb = await createSwitchboard(config).catch((e: unknown) => {
    throw e instanceof UnwritableDataDirError ? new CliError(e.message, EXIT.dataDirUnwritable) : e;
  });
  const url = await sb.listen();
  const storage = config.databaseUrl ? 'postgresql' : 'sqlite';
  if (isPretty(config.logFormat)) {
    process.stdout.write(
      bannerText({
        url,
        version: VERSION,
        mode: config.environment,
        role: config.role,
        storage: storage === 'sqlite' ? { kind: 'sqlite', dataDir: config.dataDir } : { kind: 'postgresql' },
        allowedNetworks: config.allowedNetworksText,
        docs: config.docs,
        metricsProtected: config.metricsToken !== undefined,
      }),
    );
  }
  const dashboard = browsableUrl(url) + '/';
  sb.app.log.info({ url, dashboard, dataDir: config.dataDir, durability: config.durability, storage, role: config.role, mode: config.environment }, 'Switchboard is listening');
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
