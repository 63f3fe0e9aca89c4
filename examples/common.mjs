/**
 * What every example needs: a Switchboard to talk to, local HTTP servers, and a way to wait.
 *
 * With SWITCHBOARD_SERVER_URL and SWITCHBOARD_TOKEN set, an example uses that server; it must
 * allow loopback endpoints (SWITCHBOARD_ALLOWED_NETWORKS=127.0.0.0/8,::1/128), since the
 * receivers are local. Without them, it starts its own Switchboard from this checkout's build
 * (`npm run build`) on a free port, with a throwaway data directory, and stops it at the end.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Svix } from 'svix';

export const SWITCHBOARD_BIN = fileURLToPath(new URL('../bin/switchboard.js', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));

/**
 * Runs an example: connects to (or starts) a Switchboard with `settings`, runs `body`, prints
 * `OK <name>: <what body returned>` or `FAILED <name>: <why>` and sets the exit code.
 * Whatever was started is stopped in both cases.
 */
export async function example(name, settings, body) {
  const cleanups = [];
  const defer = (fn) => void cleanups.unshift(fn);
  try {
    const sb = await switchboard(settings, defer);
    const summary = await body({ ...sb, defer, receiver: (handler) => receiver(handler, defer) });
    console.log(`OK ${name}: ${summary}`);
  } catch (e) {
    // The svix SDK's errors carry the server's answer in `body`.
    let why = e?.body ? `the server answered ${e.code}: ${JSON.stringify(e.body)}` : e instanceof Error ? e.message : String(e);
    if (why.includes('address not allowed')) why += '; the receivers are local: start the server with SWITCHBOARD_ALLOWED_NETWORKS=127.0.0.0/8,::1/128';
    console.error(`FAILED ${name}: ${why}`);
    process.exitCode = 1;
  } finally {
    for (const fn of cleanups) await fn().catch(() => {});
  }
}

/** Connects to SWITCHBOARD_SERVER_URL, or starts a Switchboard with these settings. */
async function switchboard(settings, defer) {
  let url = process.env.SWITCHBOARD_SERVER_URL;
  let token = process.env.SWITCHBOARD_TOKEN;
  if (url) {
    if (!token) throw new Error('SWITCHBOARD_SERVER_URL is set but SWITCHBOARD_TOKEN is not');
    const wanted = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
    if (wanted.length > 0) console.log(`Using ${url}; this example expects it to run with ${wanted.join(' ')}`);
  } else {
    ({ url, token } = await startSwitchboard(settings, defer));
  }
  url = url.replace(/\/+$/, '');

  /** Calls Switchboard's own API (what the svix SDK does not cover); throws on an error answer. */
  async function api(method, path, body) {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return { url, token, api, svix: new Svix(token, { serverUrl: url }) };
}

/** Starts `switchboard serve` on a free loopback port with a throwaway data directory. */
async function startSwitchboard(settings, defer) {
  if (!existsSync(BUILT)) throw new Error('Switchboard is not built: run `npm run build` first');
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-example-'));
  const token = 'sb_example_' + randomBytes(16).toString('hex');
  // None of the caller's SWITCHBOARD_* settings (a database URL, say) reach this server.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHBOARD_')));
  const child = spawn(process.execPath, [SWITCHBOARD_BIN, 'serve'], {
    env: {
      ...env,
      SWITCHBOARD_PORT: '0',
      SWITCHBOARD_HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_TOKEN: token,
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
      SWITCHBOARD_LOG_LEVEL: 'info',
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.once('exit', stop);
  defer(async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(stop, 10_000);
    await exited;
    clearTimeout(timer);
    process.removeListener('exit', stop);
    rmSync(dataDir, { recursive: true, force: true });
  });

  // The server logs JSON lines; the one saying it listens carries its URL. Later lines are
  // read and dropped (a full pipe would stall the server), the last ones kept for errors.
  const log = [];
  child.stderr.on('data', (d) => log.push(String(d)));
  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        log.push(line);
        if (log.length > 50) log.shift();
        if (line.includes('"Switchboard is listening"')) resolve(JSON.parse(line).url);
      }
    });
    exited.then((code) => reject(new Error(`switchboard serve exited (${code}) before listening:\n${log.join('\n')}`)));
  });
  return { url, token };
}

/**
 * A local HTTP server on a free loopback port. `handler({method, url, headers, body})` returns
 * the status code, or `{status, json}`. Resolves with `{url}` once it listens.
 */
async function receiver(handler, defer) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const out = await handler({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const { status, json, headers = {} } = typeof out === 'number' ? { status: out } : out;
        if (json === undefined) res.writeHead(status, headers).end();
        else res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json));
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${server.address().port}` };
}

/** Waits until `check()` returns something truthy (and returns it); fails after `seconds`. */
export async function waitFor(what, check, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`gave up after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Throws `message` unless `condition` holds. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}
