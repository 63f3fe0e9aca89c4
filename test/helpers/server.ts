/** Starts a real Switchboard in this process on a free port with a fresh data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createSwitchboard } from '../../src/composition/server.js';
import { takeViolations } from '../../src/http/openapi-validator.js';
import type { Overrides, Switchboard } from '../../src/composition/server.js';
import { eventually } from './eventually.js';
import { migratedTestSchema } from './pg.js';
import { agentClass, request } from '../../src/platform/http-client.js';

export const TEST_TOKEN = 'sb_test_admin_token';

/** The connection pool of `api` calls, shared by the servers of a test process. */
const client = new (agentClass())({ keepAliveTimeout: 1000 });

/** A response's headers as a fetch `Headers`, as tests read them. */
function headersOf(raw: IncomingHttpHeaders): Headers {
  const h = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) h.append(name, v);
    else if (value !== undefined) h.append(name, value);
  }
  return h;
}

export interface TestServer {
  url: string;
  token: string;
  sb: Switchboard;
  dataDir: string;
  /** Settings a command-line process needs to work on this server's data (its data directory, and database when on PostgreSQL). */
  cliEnv: Record<string, string>;
  /** Fetch with the admin token and JSON. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** The whole API suite runs once more on PostgreSQL with SWITCHBOARD_TEST_STORE=postgres (dist/test/on-postgres/, scripts/test-groups.mjs). */
const ON_POSTGRES = process.env.SWITCHBOARD_TEST_STORE === 'postgres';

export async function startServer(env: Record<string, string> = {}, overrides: Overrides = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  // A schema of its own per server, as its migrations left it; given back on close.
  const pg = ON_POSTGRES && !overrides.store && !env.SWITCHBOARD_DATABASE_URL ? await migratedTestSchema() : null;
  const config = loadConfig({
    SWITCHBOARD_PORT: '0',
    SWITCHBOARD_HOST: '127.0.0.1',
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_ADMIN_TOKEN: TEST_TOKEN,
    SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    SWITCHBOARD_DURABILITY: 'normal',
    SWITCHBOARD_SHUTDOWN_GRACE_MS: '200',
    // The suite makes many deliberate failed authentications from 127.0.0.1; the throttle's own tests set their number.
    SWITCHBOARD_AUTH_FREE_FAILURES: '100000',
    // Every response of the suite is checked against the OpenAPI document; close() fails on a mismatch.
    SWITCHBOARD_VALIDATE_RESPONSES: 'true',
    // One send worker thread, not one per core: each thread loads the sender's modules afresh, which
    // costs more CPU than the rest of a server start. Several workers are tested in send-workers.test.ts.
    // On PostgreSQL, whose run is there for the store, deliveries go out on the main thread (`0`): the
    // same sender without the thread, so the API suite covers both ways, and the suite's CPU drops.
    SWITCHBOARD_SEND_WORKERS: ON_POSTGRES ? '0' : '1',
    // Two connections for queries (and the one that listens): each PostgreSQL session costs the
    // server tens of ms of CPU to start and to warm its caches, and a test server is short-lived.
    ...(pg ? { SWITCHBOARD_DATABASE_URL: pg.url, SWITCHBOARD_DATABASE_POOL: '2' } : {}),
    ...env,
  });
  const sb = await createSwitchboard(config, { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), ...overrides });
  const url = await sb.listen();
  return {
    url,
    token: TEST_TOKEN,
    sb,
    dataDir,
    cliEnv: { SWITCHBOARD_DATA_DIR: dataDir, ...(pg ? { SWITCHBOARD_DATABASE_URL: pg.url } : {}) },
    async api(method, path, body, headers = {}) {
      // undici's request, not fetch: the suite makes tens of thousands of these calls, and fetch
      // costs about twice the CPU per call (its web streams and Headers work).
      const res = await request(url + path, {
        method,
        dispatcher: client,
        headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.body.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.statusCode, body: parsed, headers: headersOf(res.headers) };
    },
    async close() {
      await sb.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
      const violations = takeViolations();
      if (violations.length > 0) {
        throw new Error('responses that do not match the OpenAPI document:\n' + violations.map((v) => `  ${v.method} ${v.route} ${v.status}: ${v.problem}`).join('\n'));
      }
    },
  };
}

/** Waits until a message has at least `n` recorded attempts (they are written in batches after the response); returns them newest first. */
export async function attemptsOf(server: TestServer, appId: string, msgId: string, n = 1): Promise<any[]> {
  return eventually(async () => {
    const list = (await server.api('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}`)).body?.data as any[] | undefined;
    return list && list.length >= n ? list : null;
  }, `${n} recorded attempt(s) of ${msgId}`);
}
