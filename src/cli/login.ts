/** `switchboard login` and `logout`: keep the server URL and token in the CLI's config file. */
import { Command } from 'commander';
import { ApiClient, ApiError, configPath, readConfigFile, resolveConnection, writeConfigFile } from './client.js';
import { connectionFlags } from './common.js';
import { CliError, EXIT } from './exit-codes.js';
import { stdio } from './output.js';
import type { Io } from './output.js';

/** The `login` and `logout` commands. */
export function loginCommands(io: Io = stdio): Command[] {
  const login = new Command('login')
    .description('check a server URL and token (--server, --token), and save them to the config file (~/.switchboard/config.json, mode 0600)')
    .action(async (_o: unknown, c: Command) => {
      const conn = resolveConnection(connectionFlags(c));
      if (!conn.token) throw new CliError('no token: pass --token or set SWITCHBOARD_TOKEN', EXIT.usage);
      const client = new ApiClient(conn);
      await client.request('GET', '/api/v1/health', { auth: false });
      try {
        await client.request('GET', '/api/v1/app', { query: { limit: 1 } });
      } catch (e: unknown) {
        // 403: the token is valid but scoped (an application key); it may still be saved.
        if (!(e instanceof ApiError && e.status === 403)) throw e;
      }
      const path = configPath();
      writeConfigFile(path, { ...readConfigFile(path), server: conn.server, token: conn.token });
      io.out(`logged in to ${conn.server}; saved to ${path}\n`);
    });
  const logout = new Command('logout').description('remove the saved token from the config file').action(() => {
    const path = configPath();
    const { server } = readConfigFile(path);
    writeConfigFile(path, server ? { server } : {});
    io.out(`removed the token from ${path}\n`);
  });
  return [login, logout];
}
