/** The documentation keeps up with the code. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SETTINGS, loadConfig } from '../src/config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('documentation', () => {
  it('docs/configuration.md lists every setting with its default', () => {
    const doc = readFileSync(root + 'docs/configuration.md', 'utf8');
    for (const s of SETTINGS) {
      assert.ok(doc.includes('`' + s.env + '`'), `${s.env} is documented`);
      assert.ok(doc.includes('`' + s.default + '`'), `${s.env}'s default ${s.default} is documented`);
    }
  });

  it('the README opens with the two set-up commands', () => {
    const readme = readFileSync(root + 'README.md', 'utf8');
    const head = readme.slice(0, 1500);
    assert.ok(head.includes('npm install && npm start'));
    assert.ok(head.includes('npm test'));
  });

  it('bad settings stop the server with the setting named', () => {
    assert.throws(() => loadConfig({ SWITCHBOARD_PORT: 'x' }), /SWITCHBOARD_PORT/);
    assert.throws(() => loadConfig({ SWITCHBOARD_DURABILITY: 'maybe' }), /SWITCHBOARD_DURABILITY/);
    assert.throws(() => loadConfig({ SWITCHBOARD_ALLOWED_NETWORKS: 'nope' }), /SWITCHBOARD_ALLOWED_NETWORKS/);
    assert.throws(() => loadConfig({ SWITCHBOARD_RETRY_SCHEDULE: '1,-5' }), /SWITCHBOARD_RETRY_SCHEDULE/);
    assert.throws(() => loadConfig({ SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS: '5000' }), /SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS must be at most 1000/);
    assert.equal(loadConfig({ SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS: '8' }).publishCommitIntervalMs, 8);
    const c = loadConfig({});
    assert.equal(c.port, 8071);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dataDir, './data');
    assert.deepEqual(c.retrySchedule, [5, 300, 1800, 7200, 18000, 36000, 36000]);
  });
});
