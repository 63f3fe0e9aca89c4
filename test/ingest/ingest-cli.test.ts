/** `switchboard sources ...` against a real server. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { writeConfigFile } from '../../src/cli/client.js';
import { globalOptions } from '../../src/cli/common.js';
import { sourcesCommand } from '../../src/cli/sources.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('switchboard sources', () => {
  let server: TestServer;
  let printed = '';

  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());

  async function run(...args: string[]): Promise<string> {
    printed = '';
    const root = globalOptions(new Command('switchboard')).exitOverride();
    root.addCommand(sourcesCommand({ out: (t) => (printed += t) }));
    await root.parseAsync(['node', 'switchboard', 'sources', ...args, '--server', server.url, '--token', server.token]);
    return printed;
  }

  it('creates a source, adds an endpoint, lists, rotates, reads logs, deletes', async () => {
    const created = JSON.parse(await run('create', '--type', 'stripe', '--name', 'Payments', '--uid', 'payments', '--secret', 'whsec_cli', '--json'));
    assert.match(created.ingestUrl, /\/ingest\/in\//);
    assert.match(await run('list'), /stripe\s+Payments \[payments\]/);
    const ep = await run('add-endpoint', 'payments', 'http://127.0.0.1:9/hook', '--rate', '5');
    assert.match(ep, /signing secret: whsec_/);
    assert.match(await run('endpoints', 'payments'), /http:\/\/127\.0\.0\.1:9\/hook {2}5\/s/);
    const rotated = (await run('rotate-token', 'payments')).trim();
    assert.notEqual(rotated, created.ingestUrl);
    await fetch(rotated, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.match(await run('logs', 'payments'), /401 {2}missing Stripe-Signature header/);
    const poll = await run('create', '--type', 'poll', '--name', 'Items', '--config', JSON.stringify({ url: 'http://127.0.0.1:9/items', intervalSecs: 3600 }));
    assert.match(poll, /poll\s+Items\s+next run/);
    assert.match(await run('delete', 'payments'), /deleted payments/);
    await assert.rejects(run('get', 'payments'), /404/);
    await assert.rejects(run('create', '--type', 'stripe', '--name', 'No secret'), /422.*body\.config\.secret/);
  });

  it('takes the server and token from the file `switchboard login` writes, as every command does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    const saved = { ...process.env };
    try {
      writeConfigFile(join(dir, 'config.json'), { server: server.url, token: server.token });
      process.env.SWITCHBOARD_CLI_CONFIG = join(dir, 'config.json');
      delete process.env.SWITCHBOARD_SERVER_URL;
      delete process.env.SWITCHBOARD_TOKEN;
      printed = '';
      const root = globalOptions(new Command('switchboard')).exitOverride();
      root.addCommand(sourcesCommand({ out: (t) => (printed += t) }));
      await root.parseAsync(['node', 'switchboard', 'sources', 'create', '--type', 'generic-webhook', '--name', 'From the file']);
      assert.match(printed, /generic-webhook\s+From the file/);
    } finally {
      process.env = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
