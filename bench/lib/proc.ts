/**
 * Child processes: the Switchboard server, the receiver and pull clients. Every child is tracked and
 * killed when the run ends, fails, or is interrupted.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { FromPuller, FromReceiver, PullerStats, PullJob, ReceiverStats, RouteConfig, ToPuller, ToReceiver } from './protocol.js';

/** dist/bench/lib -> repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
/** Logs and profiles (gitignored). */
export const TMP_DIR = join(RESULTS_DIR, 'tmp');
const SERVER_MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');
const RECEIVER_MAIN = fileURLToPath(new URL('../receiver.js', import.meta.url));
const PULLER_MAIN = fileURLToPath(new URL('../puller.js', import.meta.url));

export const ADMIN_TOKEN = 'sb_bench_admin';

const children = new Set<ChildProcess>();

function track(cp: ChildProcess): void {
  children.add(cp);
  cp.once('exit', () => children.delete(cp));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function exited(cp: ChildProcess): boolean {
  return cp.exitCode !== null || cp.signalCode !== null;
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process has exited. */
export async function stopChild(cp: ChildProcess, graceMs = 5000): Promise<void> {
  if (exited(cp)) return;
  const done = new Promise<void>((r) => cp.once('exit', () => r()));
  cp.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!exited(cp)) cp.kill('SIGKILL');
  }, graceMs);
  await done;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 3000)));
}

let handlersInstalled = false;
/** Kills every child on Ctrl-C, SIGTERM, and (synchronously) on any exit. */
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\n${sig}: stopping child processes\n`);
    const hardStop = setTimeout(() => process.exit(130), 5000);
    void stopAll().finally(() => {
      clearTimeout(hardStop);
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const c of children) if (!exited(c)) c.kill('SIGKILL');
  });
}

/** A port the OS says is free on 127.0.0.1 (closed again before use; fine on a quiet machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerOptions {
  /** Used in log and profile file names. */
  label: string;
  durability?: 'full' | 'normal';
  /** Seconds, comma-separated. */
  retrySchedule?: string;
  endpointConcurrency?: number;
  env?: Record<string, string>;
  /** Run with `--cpu-prof` (profile written to bench/results/tmp/prof on exit). */
  cpuProf?: boolean;
}

export interface ServerHandle {
  proc: ChildProcess;
  pid: number;
  baseUrl: string;
  port: number;
  logPath: string;
  profDir: string | null;
  /** From spawn to the first healthy answer. */
  readyAfterMs: number;
  stop(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<ServerHandle> {
  mkdirSync(TMP_DIR, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const port = await freePort();
  const logPath = join(TMP_DIR, `${opts.label}.server.log`);
  const logFd = openSync(logPath, 'w');
  const profDir = opts.cpuProf ? join(TMP_DIR, 'prof', opts.label) : null;
  const nodeArgs: string[] = [];
  if (profDir) {
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
    // Sampling interval in µs (node's default 1000); finer to see where the event loop stalls.
    const interval = process.env['BENCH_CPU_PROF_INTERVAL_US'];
    if (interval) nodeArgs.push(`--cpu-prof-interval=${interval}`);
  }
  // Extra flags for every server's node (BENCH_NODE_ARGS, space-separated), e.g. V8 tracing.
  nodeArgs.push(...(process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    SWITCHBOARD_PORT: String(port),
    SWITCHBOARD_HOST: '127.0.0.1',
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
    SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    SWITCHBOARD_DURABILITY: opts.durability ?? 'full',
    SWITCHBOARD_LOG_LEVEL: 'warn',
    // In-flight deliveries (e.g. to an endpoint that never answers) must not hold up shutdown.
    SWITCHBOARD_SHUTDOWN_GRACE_MS: '1000',
    ...(opts.retrySchedule ? { SWITCHBOARD_RETRY_SCHEDULE: opts.retrySchedule } : {}),
    ...(opts.endpointConcurrency ? { SWITCHBOARD_ENDPOINT_CONCURRENCY: String(opts.endpointConcurrency) } : {}),
    ...opts.env,
  };
  const spawnedAt = performance.now();
  const proc = spawn(process.execPath, [...nodeArgs, SERVER_MAIN, 'serve'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  track(proc);
  const baseUrl = `http://127.0.0.1:${port}`;
  const cleanupData = (): void => rmSync(dataDir, { recursive: true, force: true });
  proc.once('exit', cleanupData);

  const handle: ServerHandle = {
    proc,
    pid: proc.pid ?? -1,
    baseUrl,
    port,
    logPath,
    profDir,
    readyAfterMs: 0,
    // A generous grace period: with --cpu-prof the profile is written on exit.
    stop: () => stopChild(proc, profDir ? 15_000 : 5_000),
  };
  try {
    // Generous: start-up compiles every route schema, which takes long on a busy machine.
    await waitHealthy(baseUrl, proc, 90_000);
    handle.readyAfterMs = Math.round(performance.now() - spawnedAt);
  } catch (err) {
    await handle.stop();
    const log = tail(logPath, 2000);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server log (${logPath}) ---\n${log}`);
  }
  return handle;
}

function tail(path: string, chars: number): string {
  try {
    const t = readFileSync(path, 'utf8');
    return t.slice(-chars);
  } catch {
    return '';
  }
}

async function waitHealthy(baseUrl: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (exited(proc)) throw new Error(`server exited during start-up (code ${String(proc.exitCode)}, signal ${String(proc.signalCode)})`);
    try {
      const res = await request(`${baseUrl}/api/v1/health`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 204 || res.statusCode === 200) return;
      last = `status ${res.statusCode}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`server not healthy after ${timeoutMs} ms (${last})`);
}

/** Newest `.cpuprofile` a profiled server wrote, if any. */
export function findProfile(dir: string): string | null {
  try {
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
    const last = files[files.length - 1];
    return last ? join(dir, last) : null;
  } catch {
    return null;
  }
}

/** Forks a helper script (receiver, puller) with an IPC channel; resolves once it says it is ready. */
async function forkHelper(main: string, what: string): Promise<ChildProcess> {
  const proc = fork(main, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(proc);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not start in 10 s`)), 10_000);
    proc.once('message', () => {
      clearTimeout(t);
      resolve();
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${what} exited with code ${String(code)}`));
    });
  });
  return proc;
}

/** A helper process that answers numbered requests over the IPC channel (`{id, ...}` both ways). */
class IpcChild<To extends { id: number }, From extends { type: string }> {
  private lastId = 0;
  private readonly waiting = new Map<number, (m: From) => void>();

  protected constructor(
    readonly proc: ChildProcess,
    private readonly what: string,
  ) {
    proc.on('message', (m: From & { id?: number }) => {
      if (typeof m.id !== 'number') return;
      const cb = this.waiting.get(m.id);
      if (cb) {
        this.waiting.delete(m.id);
        cb(m);
      }
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  protected nextId(): number {
    return ++this.lastId;
  }

  protected call(msg: To & { type: string }, timeoutMs = 15_000): Promise<From> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(msg.id);
        reject(new Error(`${this.what} did not answer "${msg.type}" in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(msg.id, (m) => {
        clearTimeout(t);
        const error = (m as { error?: string }).error;
        if (error) reject(new Error(`${this.what}: ${error}`));
        else resolve(m);
      });
      this.proc.send(msg);
    });
  }

  stop(): Promise<void> {
    return stopChild(this.proc, 3000);
  }
}

/** Orchestrator-side handle on the receiver process. */
export class Receiver extends IpcChild<ToReceiver, FromReceiver> {
  port = 0;

  static async start(): Promise<Receiver> {
    return new Receiver(await forkHelper(RECEIVER_MAIN, 'receiver'), 'receiver');
  }

  async configure(routes: Record<string, RouteConfig>): Promise<void> {
    await this.call({ type: 'configure', id: this.nextId(), routes });
  }

  /** Starts listening (port 0: any free port); the first port becomes `port`. More calls add sockets. */
  async listen(port = 0): Promise<number> {
    const m = await this.call({ type: 'listen', id: this.nextId(), port });
    const got = m.type === 'ack' && m.port ? m.port : port;
    if (!this.port) this.port = got;
    return got;
  }

  async close(): Promise<void> {
    await this.call({ type: 'close', id: this.nextId() });
  }

  /** Starts a new phase: counters and duplicate detection reset; other phases' payloads count as stale. */
  async reset(phase: string): Promise<void> {
    await this.call({ type: 'reset', id: this.nextId(), phase });
  }

  /** Full stats: latency percentiles (and 100 ms arrival timelines when asked). */
  async stats(timeline = false): Promise<ReceiverStats> {
    return this.query(timeline, false);
  }

  /** Counts only (latency null): cheap, for polling. */
  async counts(): Promise<ReceiverStats> {
    return this.query(false, true);
  }

  private async query(timeline: boolean, light: boolean): Promise<ReceiverStats> {
    const m = await this.call({ type: 'stats', id: this.nextId(), timeline, light });
    if (m.type !== 'stats') throw new Error('unexpected receiver answer');
    return m.stats;
  }

  /** Polls counts until `done` holds or `timeoutMs` passes; returns the last counts and whether it held. */
  async waitFor(done: (s: ReceiverStats) => boolean, timeoutMs: number, pollMs = 100): Promise<{ stats: ReceiverStats; ok: boolean }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.counts();
      if (done(s)) return { stats: s, ok: true };
      if (Date.now() >= deadline) return { stats: s, ok: false };
      await sleep(pollMs);
    }
  }
}

/** Orchestrator-side handle on a pull client process (bench/puller.ts). */
export class Puller extends IpcChild<ToPuller, FromPuller> {
  static async start(): Promise<Puller> {
    return new Puller(await forkHelper(PULLER_MAIN, 'puller'), 'puller');
  }

  /** Starts a job; resolves once it reads (or, for idle connections, once all are open) with what the job reports. */
  async start(job: PullJob, timeoutMs = 30_000): Promise<Record<string, number>> {
    const m = await this.call({ type: 'start', id: this.nextId(), job }, timeoutMs);
    return m.type === 'ack' ? (m.info ?? {}) : {};
  }

  /** Starts a new phase: counters and duplicate detection reset; other phases' messages count as stale. */
  async reset(phase: string): Promise<void> {
    await this.call({ type: 'reset', id: this.nextId(), phase });
  }

  /** `light`: counts only (latency null), cheap enough to poll; `arrivals`: with every first arrival's seq and time. */
  async stats(light = false, arrivals = false): Promise<PullerStats> {
    const m = await this.call({ type: 'stats', id: this.nextId(), light, arrivals });
    if (m.type !== 'stats') throw new Error('unexpected puller answer');
    return m.stats;
  }

  /** Ends every job and connection. */
  async close(): Promise<void> {
    await this.call({ type: 'close', id: this.nextId() }, 30_000);
  }

  /** Polls counts until `done` holds or `timeoutMs` passes. */
  async waitFor(done: (s: PullerStats) => boolean, timeoutMs: number, pollMs = 100): Promise<{ stats: PullerStats; ok: boolean }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.stats(true);
      if (done(s)) return { stats: s, ok: true };
      if (Date.now() >= deadline) return { stats: s, ok: false };
      await sleep(pollMs);
    }
  }
}
