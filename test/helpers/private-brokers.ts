/**
 * Broker servers of a test's own, with persistence, that the test may stop and start again: a
 * real process stop (SIGTERM, or SIGKILL when a crash is the point) and then a new process on
 * the same port and the same data directory. The shared brokers on the usual ports serve other
 * suites at the same time and are never restarted; these listen on a free loopback port below
 * the kernel's ephemeral range (so no socket of another test takes it while the broker is
 * down) and keep their data in a temporary directory, removed by `close()`.
 *
 * - Redis: `appendonly yes`, `appendfsync always` (an acknowledged write survives a stop).
 * - NATS: JetStream with file storage in the directory (`-js -sd <dir>`).
 * - Mosquitto: a generated config, `persistence true` in the directory (sessions and their
 *   queued QoS 1 messages are written when it stops).
 * - RabbitMQ: a node of its own (`sbt<pid>x<n>@localhost`), its database, logs, config, plugin
 *   list and Erlang cookie in the directory, no plugins; guest/guest. It takes several seconds
 *   to start. It stops on SIGTERM (a clean shutdown that keeps durable queues and persistent
 *   messages), so no `rabbitmqctl` (and no cookie shared with the machine's node) is needed.
 *
 * Redis, NATS and Mosquitto can also require a password (`{ password }`: the user
 * `PRIVATE_USER` for NATS and Mosquitto, Redis's default user), for tests of refused
 * credentials: the shared brokers accept anyone.
 *
 * Every broker started here is killed when the test process exits, whatever happened.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { IN_CI } from './requirements.js';

export type PrivateBrokerKind = 'redis' | 'nats' | 'mqtt' | 'rabbitMq';

/** The user a private NATS or Mosquitto started with a password accepts. */
export const PRIVATE_USER = 'switchboard';

/** Start options: a password the broker requires (see the file's comment). */
export interface PrivateBrokerOptions {
  password?: string;
}

export interface PrivateBroker {
  kind: PrivateBrokerKind;
  port: number;
  /** The URL a client connects with (`redis://`, `nats://`, `mqtt://`, `amqp://guest:guest@`). */
  url: string;
  /** The data directory, kept across restarts. */
  dir: string;
  /** Whether its process is running now. */
  readonly running: boolean;
  /** Processes started so far (1 after the first start, 2 after a restart ...). */
  readonly starts: number;
  /** Ends the process with `signal` (SIGTERM by default) and waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a new process on the same port and directory; resolves once it serves clients. */
  start(): Promise<void>;
  /** Stops, runs `whileDown` (if given), and starts again. */
  restart(o?: { signal?: NodeJS.Signals; whileDown?: () => Promise<unknown> }): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

const COMMANDS: Record<PrivateBrokerKind, string[]> = { redis: ['redis-server'], nats: ['nats-server'], mqtt: ['mosquitto', 'mosquitto_passwd'], rabbitMq: ['rabbitmq-server'] };
/**
 * RabbitMQ's own start script, run directly where Debian's package puts it (the wrapper on the
 * PATH switches to the rabbitmq user, which cannot write a root-owned temporary directory).
 */
const RABBITMQ_SERVER = existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') ? '/usr/lib/rabbitmq/bin/rabbitmq-server' : 'rabbitmq-server';

/** A skip reason when the server of one of `kinds` is not installed, or false (always false under CI). */
export function skipWithoutPrivateBrokers(...kinds: PrivateBrokerKind[]): string | false {
  if (IN_CI) return false;
  const missing = kinds.flatMap((k) => COMMANDS[k]).filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  return missing.length ? `${missing.join(', ')} not installed: install it to run this test` : false;
}

/** Processes still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
const killAll = (): void => {
  for (const c of live) kill(c, 'SIGKILL');
};
process.once('exit', killAll);
// A test process ended by a signal runs no 'exit' handlers: kill them, then end as the signal would.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

/**
 * Sends `signal` to a broker. Each runs in a process group of its own: SIGKILL goes to the
 * whole group (RabbitMQ's start script runs the Erlang VM as a child, which would outlive it),
 * other signals to the process started, which shuts down cleanly (RabbitMQ's script passes
 * SIGTERM on to the VM and waits for it).
 */
function kill(c: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (signal === 'SIGKILL' && c.pid !== undefined) process.kill(-c.pid, signal);
    else c.kill(signal);
  } catch {
    // Already gone.
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free loopback port (and the one after it) below the kernel's ephemeral range, like the TCP
 * proxy's: while a server on it is down, no socket of a test running beside it takes it.
 */
export async function stablePort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if ((await canListen(port)) && (await canListen(port + 1))) return port;
    if (tries > 50) throw new Error('no free port for a private broker');
  }
}

/** Whether something answers on `port`: accepts a connection, and (when given) replies to `hello` with text starting with `expect`. */
function answers(port: number, hello?: string, expect?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => {
      if (hello !== undefined) s.write(hello);
      else if (expect === undefined) done(true);
    });
    s.on('data', (c: Buffer) => {
      reply += c.toString('utf8');
      if (expect !== undefined && reply.length >= expect.length) done(reply.startsWith(expect));
    });
  });
}

interface Recipe {
  kind: PrivateBrokerKind;
  url: (port: number) => string;
  /** Writes what the broker needs into `dir` once, before the first start. */
  prepare?: (dir: string, port: number) => void;
  command: (dir: string, port: number) => { file: string; args: string[]; env?: Record<string, string> };
  /** Serves clients (beyond accepting a connection). */
  ready: (port: number) => Promise<boolean>;
  /** How long a start may take. */
  startMs: number;
}

async function startPrivate(recipe: Recipe): Promise<PrivateBroker> {
  const port = await stablePort();
  const dir = mkdtempSync(join(tmpdir(), `switchboard-${recipe.kind}-`));
  recipe.prepare?.(dir, port);
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let starts = 0;
  let output = '';

  const broker: PrivateBroker = {
    kind: recipe.kind,
    port,
    url: recipe.url(port),
    dir,
    get running() {
      return child !== null;
    },
    get starts() {
      return starts;
    },
    async start() {
      if (child) return;
      const { file, args, env } = recipe.command(dir, port);
      const c = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true });
      child = c;
      starts++;
      live.add(c);
      output = '';
      const keep = (b: Buffer) => (output = (output + b.toString('utf8')).slice(-4000));
      c.stdout?.on('data', keep);
      c.stderr?.on('data', keep);
      // 'exit', not 'close': a process it started may still hold the output pipes. 'error': it never started.
      exited = new Promise<void>((resolve) => {
        const gone = () => {
          live.delete(c);
          if (child === c) child = null;
          resolve();
        };
        c.once('exit', gone);
        c.once('error', (e) => {
          output += `\n${e.message}`;
          gone();
        });
      });
      const ended = exited.then(() => {
        throw new Error(`the private ${recipe.kind} exited while starting`);
      });
      ended.catch(() => undefined);
      try {
        const ready = eventually(() => recipe.ready(port), `the private ${recipe.kind} on port ${port} to serve clients`, { timeoutMs: recipe.startMs, intervalMs: 50 });
        await Promise.race([ready, ended]);
      } catch (e) {
        kill(c, 'SIGKILL');
        await exited;
        throw new Error(`${(e as Error).message}\n${output}`, { cause: e });
      }
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c) return;
      kill(c, signal);
      await exited;
    },
    async restart(o = {}) {
      await broker.stop(o.signal);
      try {
        await o.whileDown?.();
      } finally {
        await broker.start();
      }
    },
    async close() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await broker.start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return broker;
}

/** Redis with an append-only file synced on every write. */
export function privateRedis(o: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
  const auth = o.password === undefined ? [] : ['--requirepass', o.password];
  return startPrivate({
    kind: 'redis',
    url: (port) => `redis://127.0.0.1:${port}`,
    command: (dir, port) => ({
      file: 'redis-server',
      args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', ...auth],
    }),
    // A Redis still loading its file answers -LOADING.
    ready: (port) => (o.password === undefined ? answers(port, 'PING\r\n', '+PONG') : answers(port, `AUTH ${o.password}\r\n`, '+OK')),
    startMs: 30_000,
  });
}

/** NATS with JetStream, file storage in the directory. */
export function privateNats(o: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
  const auth = o.password === undefined ? [] : ['--user', PRIVATE_USER, '--pass', o.password];
  return startPrivate({
    kind: 'nats',
    url: (port) => `nats://127.0.0.1:${port}`,
    command: (dir, port) => ({ file: 'nats-server', args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'jetstream'), ...auth] }),
    // The INFO line is sent once JetStream has recovered its streams and clients are accepted.
    ready: (port) => answers(port, undefined, 'INFO '),
    startMs: 30_000,
  });
}

/** Mosquitto persisting sessions and queued messages in the directory. */
export function privateMosquitto(o: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
  return startPrivate({
    kind: 'mqtt',
    url: (port) => `mqtt://127.0.0.1:${port}`,
    prepare: (dir, port) => {
      // Mosquitto started as root writes its files as the mosquitto user.
      chmodSync(dir, 0o777);
      const passwd = join(dir, 'passwd');
      if (o.password !== undefined) execFileSync('mosquitto_passwd', ['-b', '-c', passwd, PRIVATE_USER, o.password], { stdio: 'ignore' });
      const auth = o.password === undefined ? ['allow_anonymous true'] : ['allow_anonymous false', `password_file ${passwd}`];
      writeFileSync(
        join(dir, 'mosquitto.conf'),
        [`listener ${port} 127.0.0.1`, ...auth, 'persistence true', `persistence_location ${dir}/`, 'max_queued_messages 0', 'max_inflight_messages 0', ''].join('\n'),
      );
    },
    command: (dir) => ({ file: 'mosquitto', args: ['-c', join(dir, 'mosquitto.conf')] }),
    ready: (port) => answers(port),
    startMs: 30_000,
  });
}

let rabbitNodes = 0;

/** A RabbitMQ node of its own. */
export function privateRabbitMq(): Promise<PrivateBroker> {
  const node = `sbt${process.pid}x${rabbitNodes++}@localhost`;
  return startPrivate({
    kind: 'rabbitMq',
    url: (port) => `amqp://guest:guest@127.0.0.1:${port}`,
    prepare: (dir, port) => {
      mkdirSync(join(dir, 'home'));
      writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`);
      writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
      writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
    },
    command: (dir, port) => ({
      file: RABBITMQ_SERVER,
      args: [],
      env: {
        HOME: join(dir, 'home'),
        RABBITMQ_NODENAME: node,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(port + 1),
        RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
        RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
        RABBITMQ_PID_FILE: join(dir, 'pid'),
      },
    }),
    // AMQP listeners open once the node has booted; the broker answers a protocol header with its own.
    ready: (port) => answers(port, 'AMQP\x00\x00\x09\x01', '\x01'),
    startMs: 60_000,
  });
}

/** Starts a private broker of `kind`. */
export function privateBroker(kind: PrivateBrokerKind): Promise<PrivateBroker> {
  return { redis: privateRedis, nats: privateNats, mqtt: privateMosquitto, rabbitMq: privateRabbitMq }[kind]();
}
