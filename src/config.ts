/**
 * Every setting, its environment variable, default and meaning, in one place.
 * docs/configuration.md is checked against this table by a test.
 */
import type { BlockList } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseNetworks } from './domain/network.js';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from './domain/retry-policy.js';
import { int } from './config-parse.js';
import type { Env } from './config-parse.js';
import { SECURITY_SETTINGS, loadSecurityConfig } from './config-security.js';
import type { SecurityConfig } from './config-security.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL URL; unset means the SQLite file in the data directory. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** What this node does: `all`, `api` (HTTP API, no sending) or `worker` (sending, health checks only). */
  role: 'all' | 'api' | 'worker';
  /** A delivery's lease lasts the request timeout plus this. */
  leaseGraceMs: number;
  /** PostgreSQL: how long a session may sit idle in a transaction before the server ends it (0: the server's setting). */
  databaseIdleInTransactionMs: number;
  /** PostgreSQL: how long the server keeps a session whose data this node does not acknowledge (0: the server's setting). */
  databaseTcpUserTimeoutMs: number;
  /** PostgreSQL: how long a statement of this node waits for a lock before it gives up (0: the server's setting). */
  databaseLockTimeoutMs: number;
  adminToken: string | undefined;
  /** `production` refuses to start with a weak admin token; `development` only warns. */
  environment: 'production' | 'development';
  /** Credentials, encryption at rest, rate limits and slow-client defences. */
  security: SecurityConfig;
  allowedNetworks: BlockList;
  allowedNetworksText: string;
  retrySchedule: number[];
  durability: 'full' | 'normal';
  maxPayloadBytes: number;
  logLevel: string;
  /** `json` lines, `pretty` human-readable lines, or `auto`: pretty on a terminal, JSON otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  /** When set, `GET /metrics` needs `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** Whether the interactive API docs (`/docs`) and the OpenAPI document are served. */
  docs: boolean;
  endpointConcurrency: number;
  /** Least time between two publish commits, in ms (0: none). */
  publishCommitIntervalMs: number;
  maxInflight: number;
  /** Worker threads that send deliveries; 0 sends on the main thread. */
  sendWorkers: number;
  /** How far a JavaScript heap grows past what survived its last full collection, in percent; 0: V8's own. */
  heapGrowthPercent: number;
  appMaxInflight: number;
  /** Circuit breakers: consecutive failures that open one (0: off), first and longest cool-down. */
  circuitFailures: number;
  circuitCooldownMs: number;
  circuitMaxCooldownMs: number;
  requestTimeoutMs: number;
  disableAfterMs: number;
  shutdownGraceMs: number;
  /** Pull: poll-interval hint (s), SSE heartbeat, per-stream buffer, stall limit, most open streams. */
  pollIntervalSeconds: number;
  sseHeartbeatMs: number;
  sseBufferBytes: number;
  sseStallMs: number;
  maxStreams: number;
  /** Messages, deliveries and attempts older than this many days are purged; 0 keeps them forever. */
  retentionDays: number;
  /** Check every JSON response against its documented schema (development and tests). */
  validateResponses: boolean;
  /** Limits of endpoint transformations: time per run, heap per runtime, compiled ones kept. */
  transformationTimeoutMs: number;
  transformationMemoryBytes: number;
  transformationCacheSize: number;
  /** Ingest: how long provider event ids are remembered; largest response a polling source reads. */
  ingestDedupeWindowMs: number;
  pollMaxResponseBytes: number;
  /** Client connections: caps (null: derived from the file-descriptor limit), send and keep-alive timeouts. */
  connections: {
    maxConnections: number | null;
    maxPerAddress: number | null;
    maxStreamsPerAddress: number;
    sendTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  /** While the database refuses writes, a probe write runs this often to notice it recovered. */
  storageProbeMs: number;
  /** Once the database has been unreachable this long, requests that need it are refused at once (0: never). */
  storageWaitMs: number;
}

interface Setting {
  env: string;
  default: string;
  description: string;
}

/** The settings table, in documentation order. */
export const SETTINGS: Setting[] = [
  { env: 'SWITCHBOARD_PORT', default: '8071', description: 'TCP port of the HTTP API.' },
  {
    env: 'SWITCHBOARD_HOST',
    default: '127.0.0.1',
    description: 'Address the HTTP API listens on. The default answers this machine only; set `0.0.0.0` (or `::`) to serve other hosts, as the container image and the systemd unit do.',
  },
  { env: 'SWITCHBOARD_DATA_DIR', default: './data', description: 'Directory holding the SQLite database (`switchboard.db`) and the generated admin token.' },
  {
    env: 'SWITCHBOARD_DATABASE_URL',
    default: '(none)',
    description:
      'PostgreSQL connection URL, e.g. `postgres://user:password@db:5432/switchboard`. When set, data is kept in PostgreSQL instead of the SQLite file, and any number of nodes may share it (see scaling.md). Query parameters go to the server, e.g. `?search_path=switchboard` for a schema or `?sslmode=require` (behind PgBouncer, give the role its schema instead: see scaling.md).',
  },
  {
    env: 'SWITCHBOARD_LEASE_GRACE_MS',
    default: '30000',
    description:
      'A delivery being sent is leased for the request timeout plus this long. When a node sharing PostgreSQL dies mid-delivery, another node sends it again once the lease has run out (SQLite releases leases at the next start). A running background task is leased for this long, renewed while it runs, and taken over by another node once its lease has run out.',
  },
  { env: 'SWITCHBOARD_DATABASE_POOL', default: '10', description: 'Most PostgreSQL connections a node opens for queries (it opens one more to listen for other nodes\' notices).' },
  {
    env: 'SWITCHBOARD_DATABASE_IDLE_IN_TRANSACTION_MS',
    default: '10000',
    description:
      'PostgreSQL ends a session of this node that has sat idle inside a transaction this long (`idle_in_transaction_session_timeout`), releasing its locks: a node frozen or cut off by the network mid-transaction then stops the other nodes\' publishes for this long at most, not until its connection times out. `0` leaves the server\'s own setting. See scaling.md.',
  },
  {
    env: 'SWITCHBOARD_DATABASE_LOCK_TIMEOUT_MS',
    default: '15000',
    description:
      'A statement of this node that has waited this long for a lock gives up (`lock_timeout`), and its request is answered 503 `storage_busy` with `Retry-After`, nothing of it stored. Without it a request waits for as long as the lock is held: an operator\'s `ALTER TABLE` or `LOCK TABLE` left in an open transaction, or one queued behind a long transaction, would hold every request that touches the table, for good. Longer than `SWITCHBOARD_DATABASE_IDLE_IN_TRANSACTION_MS`, so that a frozen node\'s locks are released before another node\'s statements waiting for them give up. Migrations wait for each other without it. `0` leaves the server\'s own setting. See scaling.md.',
  },
  {
    env: 'SWITCHBOARD_DATABASE_TCP_USER_TIMEOUT_MS',
    default: '30000',
    description:
      'PostgreSQL drops a session of this node whose data has gone unacknowledged or untaken this long (`tcp_user_timeout`, TCP connections only). A frozen node, or one cut off by the network, stops reading its notice listener\'s notifications; the server keeps every notification until each listener has read it, so without this the server\'s notification queue fills up, and once it is full every node\'s publishes fail. A live node reads its connections at once, so it never meets the limit. `0` leaves the server\'s own setting. See scaling.md.',
  },
  {
    env: 'SWITCHBOARD_ROLE',
    default: 'all',
    description:
      '`all`: the HTTP API and delivery. `api`: the HTTP API only, other nodes send. `worker`: delivery only; the HTTP port answers health checks and metrics. `api` and `worker` need `SWITCHBOARD_DATABASE_URL`. `switchboard serve --role` overrides it.',
  },
  {
    env: 'SWITCHBOARD_ADMIN_TOKEN',
    default: '(generated)',
    description:
      'Organisation-admin bearer token. If unset, one is generated on first start, kept in `<data dir>/admin-token` and printed once.',
  },
  {
    env: 'SWITCHBOARD_ENV',
    default: 'development',
    description:
      '`production` or `development`. In production the server refuses to start with a weak admin token (shorter than 32 characters, fewer than 10 distinct characters, or digits only; see security.md); in development it starts and logs a warning.',
  },
  {
    env: 'SWITCHBOARD_ALLOWED_NETWORKS',
    default: '(none)',
    description:
      'Comma-separated CIDRs that endpoints may target although they are private, e.g. `127.0.0.0/8,::1/128` for local development. By default endpoints resolving to loopback, private, link-local, unique-local or otherwise reserved addresses are refused.',
  },
  {
    env: 'SWITCHBOARD_RETRY_SCHEDULE',
    default: DEFAULT_RETRY_SCHEDULE_SECONDS.join(','),
    description: 'Comma-separated seconds between attempts, after the immediate first attempt. Each delay gets ±20 % jitter. The number of entries is the number of retries.',
  },
  {
    env: 'SWITCHBOARD_DURABILITY',
    default: 'full',
    description:
      '`full`: an accepted message survives power loss (SQLite `synchronous=FULL`). `normal`: it survives a process crash (`synchronous=NORMAL`). Concurrent publishes share one commit either way.',
  },
  { env: 'SWITCHBOARD_MAX_PAYLOAD_BYTES', default: '1048576', description: 'Largest accepted request body; larger requests get 413.' },
  { env: 'SWITCHBOARD_LOG_LEVEL', default: 'info', description: 'pino log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.' },
  {
    env: 'SWITCHBOARD_LOG_FORMAT',
    default: 'auto',
    description: '`json`: one JSON object per line. `pretty`: human-readable lines. `auto`: pretty when standard output is a terminal, JSON otherwise (pipes, files, containers, log collectors).',
  },
  {
    env: 'SWITCHBOARD_METRICS_TOKEN',
    default: '(none)',
    description: 'When set, `GET /metrics` answers only requests with `Authorization: Bearer <this token>` (Prometheus: `authorization: { credentials: ... }`). Unset, it is open to whoever can reach the port.',
  },
  {
    env: 'SWITCHBOARD_DOCS',
    default: 'true',
    description: 'Serve the interactive API documentation at `/docs` and the OpenAPI document at `/api/v1/openapi.json`. `false` answers 404 for both.',
  },
  { env: 'SWITCHBOARD_ENDPOINT_CONCURRENCY', default: '20', description: 'Most requests in flight to one endpoint at a time.' },
  {
    env: 'SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS',
    default: '0',
    description:
      'Least time between two publish commits of a node, in ms: publishes arriving meanwhile share the next commit. `0` commits as soon as the last commit ended. On PostgreSQL under load, 5-10 ms costs up to that much publish latency and saves database and node CPU per delivery (see scaling.md). At most 1000.',
  },
  { env: 'SWITCHBOARD_MAX_INFLIGHT', default: '1000', description: 'Most delivery requests in flight from this node at a time.' },
  {
    env: 'SWITCHBOARD_SEND_WORKERS',
    default: '(number of cores - 1, at least 1)',
    description:
      'Worker threads that sign and send deliveries and read the responses, so the HTTP API and the database never wait behind them; started on the first delivery. One core is left to the main thread, which bounds the server. `0` sends on the main thread.',
  },
  {
    env: 'SWITCHBOARD_HEAP_GROWTH_PERCENT',
    default: '50',
    description:
      'How far the JavaScript heaps may grow past what survived their last full collection before they are collected again, in percent. Lower keeps resident memory down for a little more collection work; `0` leaves it to V8, which lets a heap grow to about four times what is alive.',
  },
  {
    env: 'SWITCHBOARD_APP_MAX_INFLIGHT',
    default: '250',
    description:
      'Most delivery requests in flight from this node to one application\'s endpoints together, so one application\'s slow or dead endpoints cannot take the whole node. Applications waiting for slots are served in turn.',
  },
  {
    env: 'SWITCHBOARD_CIRCUIT_FAILURES',
    default: '5',
    description:
      'Consecutive failed attempts (connection error, timeout, 5xx) that open an endpoint\'s circuit, or a destination host\'s when they came from two or more of its endpoints and showed the host down (connection error, timeout, 502, 503, 504): nothing is sent through an open circuit and its due deliveries wait without using attempts, until a probe succeeds. `0` turns circuit breakers off.',
  },
  { env: 'SWITCHBOARD_CIRCUIT_COOLDOWN_MS', default: '10000', description: 'How long an opened circuit waits before it lets one probe delivery through; each failed probe doubles it.' },
  { env: 'SWITCHBOARD_CIRCUIT_MAX_COOLDOWN_MS', default: '600000', description: 'Longest wait between probes of an open circuit.' },
  { env: 'SWITCHBOARD_REQUEST_TIMEOUT_MS', default: '15000', description: 'Total time allowed for one delivery request (connect, headers and body).' },
  {
    env: 'SWITCHBOARD_DISABLE_AFTER_SECONDS',
    default: String(5 * 24 * 3600),
    description: 'An endpoint whose every attempt has failed for this long is disabled (default 5 days).',
  },
  {
    env: 'SWITCHBOARD_SHUTDOWN_GRACE_MS',
    default: '10000',
    description: 'On SIGTERM/SIGINT, how long in-flight deliveries may finish before their leases are released for redelivery.',
  },
  {
    env: 'SWITCHBOARD_POLL_HINT_SECONDS',
    default: '5',
    description: 'Poll responses carry `X-Poll-Interval`: `0` while more messages are waiting, else this many seconds (clients using `wait` may poll again at once).',
  },
  { env: 'SWITCHBOARD_SSE_HEARTBEAT_MS', default: '15000', description: 'How often an idle Server-Sent Events stream sends a comment line to keep proxies and clients from timing out.' },
  {
    env: 'SWITCHBOARD_SSE_BUFFER_BYTES',
    default: '262144',
    description: 'Bytes a stream may have written but not yet sent before it waits for its client (at least 16384). Memory per stream stays below this plus one message.',
  },
  {
    env: 'SWITCHBOARD_SSE_STALL_MS',
    default: '30000',
    description: 'A stream whose client has not drained its full buffer for this long is disconnected; the client resumes with `Last-Event-ID`.',
  },
  { env: 'SWITCHBOARD_MAX_STREAMS', default: '20000', description: 'Most Server-Sent Events streams a node holds open; more get 503.' },
  {
    env: 'SWITCHBOARD_RETENTION_DAYS',
    default: '30',
    description:
      'Messages older than this many days are deleted with their payloads, deliveries and attempts, in small batches (messages still being delivered are kept). `0` keeps everything.',
  },
  {
    env: 'SWITCHBOARD_VALIDATE_RESPONSES',
    default: 'false',
    description: 'Development aid: check every JSON response against the schema its route documents in the OpenAPI document and log mismatches (`true` or `false`).',
  },
  { env: 'SWITCHBOARD_TRANSFORMATION_TIMEOUT_MS', default: '100', description: 'Time limit of one run of an endpoint transformation, in CPU time of the sandbox\'s thread (wall time where the system does not report it; at most 10 times the limit in wall time in any case); a run that takes longer fails its attempt.' },
  { env: 'SWITCHBOARD_TRANSFORMATION_MEMORY_MB', default: '32', description: 'Heap limit of each transformation\'s sandbox (MiB); a run that needs more fails its attempt.' },
  { env: 'SWITCHBOARD_TRANSFORMATION_CACHE_SIZE', default: '200', description: 'Compiled transformations kept ready (one per endpoint, least recently used dropped first).' },
  {
    env: 'SWITCHBOARD_INGEST_DEDUPE_WINDOW_SECONDS',
    default: '86400',
    description: 'An ingest source drops a request whose provider event id (Stripe event id, `X-GitHub-Delivery`, `webhook-id`, ...) it took within this many seconds, answering 200.',
  },
  { env: 'SWITCHBOARD_POLL_MAX_RESPONSE_BYTES', default: '10485760', description: 'Largest response a polling source reads; a larger one fails the run (the source backs off).' },
  {
    env: 'SWITCHBOARD_MAX_CONNECTIONS',
    default: 'auto',
    description:
      'Most client connections making ordinary requests (idle keep-alive ones included), all addresses together; more are closed at once, with a warning logged at most every 10 s. `auto`: half of the file descriptors left after 128 and `SWITCHBOARD_MAX_INFLIGHT`, at least 32; the other half is the budget of SSE streams and long polls (also capped by `SWITCHBOARD_MAX_STREAMS`). See security.md.',
  },
  {
    env: 'SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS',
    default: 'auto',
    description:
      'Most such connections from one client address (IPv6: one /64); more are closed at once. Trusted proxies (`SWITCHBOARD_TRUSTED_PROXIES`) are exempt. `auto`: a quarter of `SWITCHBOARD_MAX_CONNECTIONS`, between 8 and 512. `0` disables.',
  },
  {
    env: 'SWITCHBOARD_MAX_STREAMS_PER_ADDRESS',
    default: '0',
    description:
      'Most SSE streams and long polls one client address holds in the stream budget; beyond it they count as ordinary connections (and so against `SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS`). `0`: only the total applies.',
  },
  {
    env: 'SWITCHBOARD_CLIENT_SEND_TIMEOUT_MS',
    default: '30000',
    description: 'A response whose client has not read what was written for this long is cut (the connection is destroyed). SSE streams use `SWITCHBOARD_SSE_STALL_MS` instead.',
  },
  {
    env: 'SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS',
    default: '5000',
    description: 'An idle keep-alive client connection is closed after this long. Behind a load balancer that reuses connections, set it above the balancer\'s idle timeout.',
  },
  {
    env: 'SWITCHBOARD_STORAGE_PROBE_MS',
    default: '5000',
    description:
      'While the database refuses writes (disk full, read-only, I/O errors), a small probe write runs this often; when one succeeds (or any message is stored), health returns to 204. While it is unreachable, at most every second. See operations.md.',
  },
  {
    env: 'SWITCHBOARD_STORAGE_WAIT_MS',
    default: '5000',
    description:
      'Once the database has been unreachable (connections refused, reset or timed out) this long, API and ingest requests that need it are answered 503 `storage_unavailable` at once instead of waiting in the connection pool\'s queue, until a write succeeds again. `0` lets them wait for as long as the outage lasts. See operations.md.',
  },
  ...SECURITY_SETTINGS,
];

/** Settings of the `switchboard` command-line client (not of the server), in documentation order. */
export const CLIENT_SETTINGS: Setting[] = [
  { env: 'SWITCHBOARD_SERVER_URL', default: 'http://127.0.0.1:8071', description: 'Server the CLI talks to (`--server` overrides it; else the config file).' },
  { env: 'SWITCHBOARD_TOKEN', default: '(none)', description: 'Bearer token the CLI sends (`--token` overrides it; else the config file).' },
  { env: 'SWITCHBOARD_CLI_CONFIG', default: '~/.switchboard/config.json', description: 'The CLI\'s config file, written by `switchboard login`.' },
];

/** SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS: whole ms, at most a second (every publish may wait that long). */
function publishCommitInterval(env: Env): number {
  const ms = int(env, 'SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS', 0, 0);
  if (ms > 1000) throw new Error(`SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS must be at most 1000 (every publish may wait that long), got "${ms}"`);
  return ms;
}

/** An integer, or null for `auto`. */
function intOrAuto(env: Env, name: string, min: number): number | null {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'auto') return null;
  return int(env, name, 0, min);
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`${name} must be "true" or "false", got "${raw}"`);
}

/** Reads and validates the configuration; throws with the offending setting's name. */
export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env.SWITCHBOARD_DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('SWITCHBOARD_DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const role = env.SWITCHBOARD_ROLE || 'all';
  if (role !== 'all' && role !== 'api' && role !== 'worker') throw new Error(`SWITCHBOARD_ROLE must be "all", "api" or "worker", got "${role}"`);
  if (role !== 'all' && databaseUrl === undefined) throw new Error(`SWITCHBOARD_ROLE=${role} needs SWITCHBOARD_DATABASE_URL: nodes with separate roles share a PostgreSQL database`);
  const environment = env.SWITCHBOARD_ENV || 'development';
  if (environment !== 'production' && environment !== 'development') {
    throw new Error(`SWITCHBOARD_ENV must be "production" or "development", got "${environment}"`);
  }
  const logFormat = env.SWITCHBOARD_LOG_FORMAT || 'auto';
  if (logFormat !== 'auto' && logFormat !== 'json' && logFormat !== 'pretty') throw new Error(`SWITCHBOARD_LOG_FORMAT must be "auto", "json" or "pretty", got "${logFormat}"`);
  const durability = env.SWITCHBOARD_DURABILITY || 'full';
  if (durability !== 'full' && durability !== 'normal') throw new Error(`SWITCHBOARD_DURABILITY must be "full" or "normal", got "${durability}"`);
  const networks = env.SWITCHBOARD_ALLOWED_NETWORKS ?? '';
  let allowedNetworks: BlockList;
  try {
    allowedNetworks = parseNetworks(networks);
  } catch (e) {
    throw new Error(`SWITCHBOARD_ALLOWED_NETWORKS: ${(e as Error).message}`);
  }
  let retrySchedule: number[];
  try {
    retrySchedule = env.SWITCHBOARD_RETRY_SCHEDULE ? parseRetrySchedule(env.SWITCHBOARD_RETRY_SCHEDULE) : [...DEFAULT_RETRY_SCHEDULE_SECONDS];
  } catch (e) {
    throw new Error(`SWITCHBOARD_RETRY_SCHEDULE: ${(e as Error).message}`);
  }
  return {
    port: int(env, 'SWITCHBOARD_PORT', 8071, 0),
    host: env.SWITCHBOARD_HOST || '127.0.0.1',
    dataDir: env.SWITCHBOARD_DATA_DIR || './data',
    databaseUrl,
    databasePoolSize: int(env, 'SWITCHBOARD_DATABASE_POOL', 10, 1),
    databaseIdleInTransactionMs: int(env, 'SWITCHBOARD_DATABASE_IDLE_IN_TRANSACTION_MS', 10_000, 0),
    databaseTcpUserTimeoutMs: int(env, 'SWITCHBOARD_DATABASE_TCP_USER_TIMEOUT_MS', 30_000, 0),
    databaseLockTimeoutMs: int(env, 'SWITCHBOARD_DATABASE_LOCK_TIMEOUT_MS', 15_000, 0),
    role,
    leaseGraceMs: int(env, 'SWITCHBOARD_LEASE_GRACE_MS', 30_000, 100),
    adminToken: env.SWITCHBOARD_ADMIN_TOKEN || undefined,
    environment,
    security: loadSecurityConfig(env),
    allowedNetworks,
    allowedNetworksText: networks,
    retrySchedule,
    durability,
    maxPayloadBytes: int(env, 'SWITCHBOARD_MAX_PAYLOAD_BYTES', 1024 * 1024, 1024),
    logLevel: env.SWITCHBOARD_LOG_LEVEL || 'info',
    logFormat,
    metricsToken: env.SWITCHBOARD_METRICS_TOKEN || undefined,
    docs: bool(env, 'SWITCHBOARD_DOCS', true),
    endpointConcurrency: int(env, 'SWITCHBOARD_ENDPOINT_CONCURRENCY', 20, 1),
    publishCommitIntervalMs: publishCommitInterval(env),
    maxInflight: int(env, 'SWITCHBOARD_MAX_INFLIGHT', 1000, 1),
    sendWorkers: int(env, 'SWITCHBOARD_SEND_WORKERS', Math.max(1, availableParallelism() - 1), 0),
    heapGrowthPercent: int(env, 'SWITCHBOARD_HEAP_GROWTH_PERCENT', 50, 0),
    appMaxInflight: int(env, 'SWITCHBOARD_APP_MAX_INFLIGHT', 250, 1),
    circuitFailures: int(env, 'SWITCHBOARD_CIRCUIT_FAILURES', 5, 0),
    circuitCooldownMs: int(env, 'SWITCHBOARD_CIRCUIT_COOLDOWN_MS', 10_000, 1),
    circuitMaxCooldownMs: int(env, 'SWITCHBOARD_CIRCUIT_MAX_COOLDOWN_MS', 600_000, 1),
    requestTimeoutMs: int(env, 'SWITCHBOARD_REQUEST_TIMEOUT_MS', 15000, 100),
    disableAfterMs: int(env, 'SWITCHBOARD_DISABLE_AFTER_SECONDS', 5 * 24 * 3600, 1) * 1000,
    shutdownGraceMs: int(env, 'SWITCHBOARD_SHUTDOWN_GRACE_MS', 10000, 0),
    pollIntervalSeconds: int(env, 'SWITCHBOARD_POLL_HINT_SECONDS', 5, 0),
    sseHeartbeatMs: int(env, 'SWITCHBOARD_SSE_HEARTBEAT_MS', 15000, 10),
    sseBufferBytes: int(env, 'SWITCHBOARD_SSE_BUFFER_BYTES', 262144, 16384),
    sseStallMs: int(env, 'SWITCHBOARD_SSE_STALL_MS', 30000, 10),
    maxStreams: int(env, 'SWITCHBOARD_MAX_STREAMS', 20000, 1),
    retentionDays: int(env, 'SWITCHBOARD_RETENTION_DAYS', 30, 0),
    validateResponses: bool(env, 'SWITCHBOARD_VALIDATE_RESPONSES', false),
    transformationTimeoutMs: int(env, 'SWITCHBOARD_TRANSFORMATION_TIMEOUT_MS', 100, 1),
    transformationMemoryBytes: int(env, 'SWITCHBOARD_TRANSFORMATION_MEMORY_MB', 32, 1) * 1024 * 1024,
    transformationCacheSize: int(env, 'SWITCHBOARD_TRANSFORMATION_CACHE_SIZE', 200, 1),
    ingestDedupeWindowMs: int(env, 'SWITCHBOARD_INGEST_DEDUPE_WINDOW_SECONDS', 86400, 1) * 1000,
    pollMaxResponseBytes: int(env, 'SWITCHBOARD_POLL_MAX_RESPONSE_BYTES', 10 * 1024 * 1024, 1024),
    connections: {
      maxConnections: intOrAuto(env, 'SWITCHBOARD_MAX_CONNECTIONS', 1),
      maxPerAddress: intOrAuto(env, 'SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS', 0),
      maxStreamsPerAddress: int(env, 'SWITCHBOARD_MAX_STREAMS_PER_ADDRESS', 0, 0),
      sendTimeoutMs: int(env, 'SWITCHBOARD_CLIENT_SEND_TIMEOUT_MS', 30000, 100),
      keepAliveTimeoutMs: int(env, 'SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS', 5000, 100),
    },
    storageProbeMs: int(env, 'SWITCHBOARD_STORAGE_PROBE_MS', 5000, 10),
    storageWaitMs: int(env, 'SWITCHBOARD_STORAGE_WAIT_MS', 5000, 0),
  };
}
