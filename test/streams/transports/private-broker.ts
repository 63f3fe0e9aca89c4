/**
 * A broker server of this suite's own, started for one test and stopped after it: the shared
 * brokers accept anyone, so refused credentials are tested against a private NATS server,
 * Redis or Mosquitto that requires a password, on a free loopback port.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/process.js';
import { IN_CI } from '../../helpers/requirements.js';

export interface PrivateBroker {
  port: number;
  stop(): Promise<void>;
}

/** A skip reason when one of `commands` is not installed, or false (always false under CI, where they must be). */
export function skipWithoutCommands(...commands: string[]): string | false {
  if (IN_CI) return false;
  const missing = commands.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  return missing.length ? `${missing.join(', ')} not installed: install it to run this test` : false;
}

/** The user the private brokers accept. */
export const PRIVATE_USER = 'switchboard';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function run(command: string, args: string[], port: number, cleanup: () => void): Promise<PrivateBroker> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let exited = false;
  const ended = new Promise<void>((r) => child.once('close', () => ((exited = true), r())));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    void ended.then(() => reject(new Error(`${command} exited before listening: ${stderr.trim()}`)));
  });
  const listening = eventually(() => accepts(port), `${command} listening on ${port}`);
  try {
    await Promise.race([listening, failed]);
  } catch (e) {
    cleanup();
    throw e;
  }
  failed.catch(() => {});
  return {
    port,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await ended;
      cleanup();
    },
  };
}

/** A NATS server that accepts only PRIVATE_USER with `password`. */
export async function privateNats(password: string): Promise<PrivateBroker> {
  const port = await freePort();
  return run('nats-server', ['-a', '127.0.0.1', '-p', String(port), '--user', PRIVATE_USER, '--pass', password], port, () => {});
}

/** A Redis that accepts only its default user with `password` (so PRIVATE_USER, or any other password, is refused). */
export async function privateRedis(password: string): Promise<PrivateBroker> {
  const port = await freePort();
  return run('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--requirepass', password, '--save', '', '--appendonly', 'no'], port, () => {});
}

/** A Mosquitto that accepts only PRIVATE_USER with `password`. */
export async function privateMosquitto(password: string): Promise<PrivateBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-mqtt-'));
  // Mosquitto started as root reads its files as the mosquitto user.
  chmodSync(dir, 0o755);
  const passwd = join(dir, 'passwd');
  execFileSync('mosquitto_passwd', ['-b', '-c', passwd, PRIVATE_USER, password], { stdio: 'ignore' });
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwd}\npersistence false\n`);
  return run('mosquitto', ['-c', conf], port, () => rmSync(dir, { recursive: true, force: true }));
}
