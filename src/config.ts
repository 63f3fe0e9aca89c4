/**
 * Every setting, its environment variable, default and meaning, in one place.
 * docs/configuration.md is checked against this table by a test.
 */
import type { BlockList } from 'node:net';
import { parseNetworks } from './domain/network.js';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from './domain/retry-policy.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  adminToken: string | undefined;
  allowedNetworks: BlockList;
  allowedNetworksText: string;
  retrySchedule: number[];
  durability: 'full' | 'normal';
  maxPayloadBytes: number;
  logLevel: string;
  endpointConcurrency: number;
  maxInflight: number;
  requestTimeoutMs: number;
  disableAfterMs: number;
  shutdownGraceMs: number;
}

interface Setting {
  env: string;
  default: string;
  description: string;
}

/** The settings table, in documentation order. */
export const SETTINGS: Setting[] = [
  { env: 'SWITCHBOARD_PORT', default: '8071', description: 'TCP port of the HTTP API.' },
  { env: 'SWITCHBOARD_HOST', default: '0.0.0.0', description: 'Address the HTTP API listens on.' },
  { env: 'SWITCHBOARD_DATA_DIR', default: './data', description: 'Directory holding the SQLite database (`switchboard.db`) and the generated admin token.' },
  {
    env: 'SWITCHBOARD_ADMIN_TOKEN',
    default: '(generated)',
    description:
      'Organisation-admin bearer token. If unset, one is generated on first start, kept in `<data dir>/admin-token` and printed once.',
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
  { env: 'SWITCHBOARD_ENDPOINT_CONCURRENCY', default: '20', description: 'Most requests in flight to one endpoint at a time.' },
  { env: 'SWITCHBOARD_MAX_INFLIGHT', default: '1000', description: 'Most delivery requests in flight from this node at a time.' },
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
];

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

/** Reads and validates the configuration; throws with the offending setting's name. */
export function loadConfig(env: Env = process.env): Config {
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
    host: env.SWITCHBOARD_HOST || '0.0.0.0',
    dataDir: env.SWITCHBOARD_DATA_DIR || './data',
    adminToken: env.SWITCHBOARD_ADMIN_TOKEN || undefined,
    allowedNetworks,
    allowedNetworksText: networks,
    retrySchedule,
    durability,
    maxPayloadBytes: int(env, 'SWITCHBOARD_MAX_PAYLOAD_BYTES', 1024 * 1024, 1024),
    logLevel: env.SWITCHBOARD_LOG_LEVEL || 'info',
    endpointConcurrency: int(env, 'SWITCHBOARD_ENDPOINT_CONCURRENCY', 20, 1),
    maxInflight: int(env, 'SWITCHBOARD_MAX_INFLIGHT', 1000, 1),
    requestTimeoutMs: int(env, 'SWITCHBOARD_REQUEST_TIMEOUT_MS', 15000, 100),
    disableAfterMs: int(env, 'SWITCHBOARD_DISABLE_AFTER_SECONDS', 5 * 24 * 3600, 1) * 1000,
    shutdownGraceMs: int(env, 'SWITCHBOARD_SHUTDOWN_GRACE_MS', 10000, 0),
  };
}
