/** Switchboard servers run as child processes (`node dist/src/main.js serve`), for tests of crashes, restarts, signals and logs. */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually, sleep } from './eventually.js';

/** The command-line entry point, built. */
export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** What a finished `switchboard` command gave: its exit code and output. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `switchboard <args>` with exactly `env` (nothing inherited) and `input` on its stdin; resolves once it has exited. */
export function runCli(args: string[], env: Record<string, string | undefined>, o: { input?: string; timeoutMs: number }): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { env, timeout: o.timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(o.input ?? '');
  });
}

/** A port the system just handed out and took back: free, unlike a random pick, which can land on a port another test's socket holds. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** What it printed so far (stdout and stderr), unless its stderr is inherited. */
  output(): string;
  /** Resolves with the exit code once the process has ended and its output is all read. */
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServerProcessOptions {
  /** Settings on top of this process's environment; `SWITCHBOARD_PORT` and `SWITCHBOARD_HOST` are set here. */
  env: Record<string, string>;
  /** Arguments after `serve`. */
  args?: string[];
  /** A port to listen on (to restart on the same address); a free one by default. */
  port?: number;
  /** The route that answers 204 once the server is up: `/api/v1/health` by default. */
  readyPath?: string;
  /** `inherit` shows the server's stderr in the test output instead of collecting it. */
  stderr?: 'pipe' | 'inherit';
}

/** Times a start found its port taken before giving up. */
const PORT_TAKEN_TRIES = 20;

/**
 * Starts `switchboard serve` and resolves once it answers its health route; fails if it exits
 * first. A port can be taken between the moment it was found free (or a server on it ended)
 * and the start: another test's outgoing connection may get it as its own local port, for as
 * long as that connection lives. The start is then tried again after a pause, on the same
 * port when one was given (a restart on the same address must wait for it), on another free
 * one otherwise.
 */
export async function startServerProcess(o: ServerProcessOptions, attempt = 1): Promise<ServerProcess> {
  const port = o.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [MAIN, 'serve', ...(o.args ?? [])], {
    // One send worker thread unless the test says otherwise, as in helpers/server.ts.
    env: { ...process.env, SWITCHBOARD_SEND_WORKERS: '1', ...o.env, SWITCHBOARD_PORT: String(port), SWITCHBOARD_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', o.stderr ?? 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  let ended = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      ended = true;
      resolve(code);
    }),
  );
  const server: ServerProcess = {
    child,
    port,
    base,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM') {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
  // Not up yet while the request fails; done waiting once it answers, or once the process has ended.
  const up = async () => ended || (await fetch(base + (o.readyPath ?? '/api/v1/health'))).status === 204;
  try {
    await eventually(up, `the server at ${base} to start`, { timeoutMs: 60_000 });
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${out.slice(-2000)}`);
  }
  if (ended) {
    const code = await exited;
    if (/EADDRINUSE/.test(out) && attempt < PORT_TAKEN_TRIES) {
      await sleep(500);
      return startServerProcess(o, attempt + 1);
    }
    throw new Error(`the server exited with ${code} while starting: ${out.slice(-2000)}`);
  }
  return server;
}

/** Calls a server's API with `token`; the body is parsed when there is one. */
export async function callServer(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
