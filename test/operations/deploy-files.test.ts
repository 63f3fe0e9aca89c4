/**
 * The deployment files (Dockerfile, compose.yaml, deploy/switchboard.service) run the command
 * docs/deploy.md documents, listen beyond loopback explicitly, and set only settings that exist.
 * Where a container engine with the Node base image is at hand, the image is built and started.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { SETTINGS } from '../../src/config.js';
import { SECURITY_SETTINGS } from '../../src/config-security.js';
import { eventually } from '../helpers/eventually.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string): string => readFileSync(root + p, 'utf8');
const SERVE = ['node', 'dist/src/main.js', 'serve'];
const known = new Set([...SETTINGS, ...SECURITY_SETTINGS].map((s) => s.env));

function checkSettings(where: string, env: Record<string, string>): void {
  for (const name of Object.keys(env).filter((k) => k.startsWith('SWITCHBOARD_'))) assert.ok(known.has(name), `${where} sets ${name}, which is not a setting`);
  assert.equal(env.SWITCHBOARD_HOST, '0.0.0.0', `${where} must listen beyond loopback explicitly`);
  assert.equal(env.SWITCHBOARD_ENV, 'production', `${where} runs with production rules`);
}

/** ENV lines of a Dockerfile's last stage, continuation lines joined. */
function dockerEnv(dockerfile: string): Record<string, string> {
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const m of lastStage.replace(/\\\n\s*/g, ' ').matchAll(/^ENV (.+)$/gm)) {
    for (const pair of m[1]!.trim().split(/\s+/)) {
      const [k, v] = pair.split('=');
      env[k!] = v!;
    }
  }
  return env;
}

describe('deployment files', () => {
  it('the Dockerfile runs `serve` with production settings and a health check', () => {
    const file = read('Dockerfile');
    const cmd = /^CMD (\[.*\])$/m.exec(file);
    assert.ok(cmd, 'a CMD in exec form');
    assert.deepEqual(JSON.parse(cmd[1]!), SERVE);
    checkSettings('Dockerfile', dockerEnv(file));
    assert.match(file, /HEALTHCHECK[\s\S]*\/api\/v1\/health/);
    assert.match(file, /^USER node$/m);
  });

  it('compose.yaml runs the same command against its PostgreSQL', () => {
    const doc = parse(read('compose.yaml')) as { services: Record<string, { command?: string[]; environment?: Record<string, string>; depends_on?: unknown }> };
    const sb = doc.services.switchboard!;
    assert.deepEqual(sb.command, SERVE);
    checkSettings('compose.yaml', sb.environment ?? {});
    assert.match(sb.environment!.SWITCHBOARD_DATABASE_URL!, /^postgres:\/\/.*@postgres:5432\//);
    assert.ok(doc.services.postgres, 'a postgres service');
    assert.deepEqual(sb.depends_on, { postgres: { condition: 'service_healthy' } });
  });

  it('the systemd unit runs the same command', () => {
    const unit = read('deploy/switchboard.service');
    const exec = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(/\s+/);
    assert.equal(exec[0], '/usr/bin/node');
    assert.deepEqual(exec.slice(1), ['/opt/switchboard/dist/src/main.js', 'serve']);
    const env: Record<string, string> = {};
    for (const m of unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
    checkSettings('switchboard.service', env);
    assert.equal(env.SWITCHBOARD_DATA_DIR, '/var/lib/switchboard');
    assert.match(unit, /^StateDirectory=switchboard$/m);
  });

  it('docs/deploy.md documents the commands the files run', () => {
    const doc = read('docs/deploy.md');
    for (const part of ['node dist/src/main.js serve', '/usr/bin/node /opt/switchboard/dist/src/main.js', 'docker build -t switchboard .', 'docker compose up -d', 'deploy/switchboard.service', 'SWITCHBOARD_HOST=0.0.0.0']) {
      assert.ok(doc.includes(part), `docs/deploy.md lacks ${part}`);
    }
  });

  const engine = spawnSync('docker', ['image', 'inspect', 'node:20-bookworm', 'node:20-bookworm-slim'], { stdio: 'ignore' });
  const noEngine = engine.error || engine.status !== 0 ? 'no container engine with the node:20-bookworm images here' : false;

  it('the image builds and answers its health route', { skip: noEngine, timeout: 900_000 }, async () => {
    const tag = `switchboard-test:${process.pid}`;
    execFileSync('docker', ['build', '-q', '-t', tag, '.'], { cwd: root, stdio: 'inherit' });
    const id = execFileSync('docker', ['run', '-d', '-P', '-e', 'SWITCHBOARD_ADMIN_TOKEN=sb_container_test_token_0123456789abcdef', tag]).toString().trim();
    try {
      const port = execFileSync('docker', ['port', id, '8071/tcp']).toString().trim().split('\n')[0]!.split(':').pop();
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => null))?.status === 204, 'the container to answer', { timeoutMs: 60_000 });
    } finally {
      spawnSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
      spawnSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
    }
  });
});
