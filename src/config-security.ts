/**
 * Settings of credentials, encryption at rest, request rate limits and slow-client
 * defences. Part of the settings table of config.ts.
 */
import type { BlockList } from 'node:net';
import { int } from './config-parse.js';
import type { Env } from './config-parse.js';
import { parseKeyRing } from './security/crypto.js';
import { parseNetworks } from './domain/network.js';

/** `rate` requests a second on average, up to `burst` at once. */
export interface RateSpec {
  rate: number;
  burst: number;
}

export interface RateLimitSettings {
  /** Per credential (API key, OAuth client, portal token); the bootstrap admin token is exempt. */
  token: RateSpec | null;
  /** Per application named in the path, whoever calls. */
  app: RateSpec | null;
  /** Health routes, per client address. */
  health: RateSpec | null;
  /** Unauthenticated ingest routes, per source (route and path parameters). */
  ingest: RateSpec | null;
  /** Other unauthenticated routes (token endpoint, JWKS, pages), per client address. */
  public: RateSpec | null;
}

/** Parses `rate[/burst]` (burst defaults to twice the rate); `0` or `off` disables. */
export function parseRateSpec(text: string): RateSpec | null {
  const t = text.trim();
  if (t === '0' || t === 'off') return null;
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(t);
  if (!m) throw new Error(`expected "rate/burst" (requests per second / largest burst), "rate", or "off"; got "${text}"`);
  const rate = Number(m[1]);
  const burst = m[2] !== undefined ? Number(m[2]) : Math.max(1, Math.ceil(rate * 2));
  if (rate <= 0 || burst < 1) throw new Error(`rate and burst must be positive, got "${text}"`);
  return { rate, burst };
}

export interface SecurityConfig {
  /** Base URL users reach the server at; unset means `http://localhost:<port>`. */
  publicUrl: string | undefined;
  /** Encryption key ring (first seals); empty means the generated key in the data directory. */
  encryptionKeys: Buffer[];
  oauthTokenTtlSeconds: number;
  rateLimits: RateLimitSettings;
  /** Proxies whose `X-Forwarded-For` names the client; null trusts none (the client is the socket's peer). */
  trustedProxies: BlockList | null;
  /** Failed authentications a client address (or a credential) may make before it is made to wait. */
  authFreeFailures: number;
  maxHeaderCount: number;
  maxHeaderBytes: number;
  clientHeadersTimeoutMs: number;
  clientRequestTimeoutMs: number;
}

/** Settings whose values are secrets: never printed. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set(['SWITCHBOARD_ADMIN_TOKEN', 'SWITCHBOARD_ENCRYPTION_KEY']);

/** The security settings, in documentation order. */
export const SECURITY_SETTINGS: { env: string; default: string; description: string }[] = [
  {
    env: 'SWITCHBOARD_PUBLIC_URL',
    default: 'http://localhost:<port>',
    description: 'Base URL users reach Switchboard at (behind a proxy: the outside URL). Used in app-portal links and as the issuer of OAuth access tokens.',
  },
  {
    env: 'SWITCHBOARD_ENCRYPTION_KEY',
    default: '(generated)',
    description:
      'Key that encrypts secrets at rest (AES-256-GCM): 32 bytes in base64 or hex, e.g. `openssl rand -base64 32`. A comma-separated list rotates keys: the first encrypts, all decrypt; then run `switchboard keys reencrypt`. If unset, one is generated on first start and kept in `<data dir>/encryption-key`.',
  },
  { env: 'SWITCHBOARD_OAUTH_TOKEN_TTL_SECONDS', default: '900', description: 'Lifetime of access tokens issued by `POST /oauth/token`.' },
  {
    env: 'SWITCHBOARD_RATE_LIMIT_TOKEN',
    default: '1000/2000',
    description:
      'Requests per second / largest burst for each credential (API key, OAuth client, app-portal or poller token). The bootstrap admin token is exempt; a long poll held waiting for a message is not counted. `off` disables.',
  },
  { env: 'SWITCHBOARD_RATE_LIMIT_APP', default: '10000/20000', description: 'Requests per second / largest burst for each application named in a request path, whoever calls. `off` disables.' },
  { env: 'SWITCHBOARD_RATE_LIMIT_HEALTH', default: '50/100', description: 'Requests per second / largest burst of health checks, per client address. `off` disables.' },
  { env: 'SWITCHBOARD_RATE_LIMIT_INGEST', default: '1000/2000', description: 'Requests per second / largest burst of unauthenticated ingest requests, per source. `off` disables.' },
  {
    env: 'SWITCHBOARD_RATE_LIMIT_PUBLIC',
    default: '50/200',
    description: 'Requests per second / largest burst of other unauthenticated routes (token endpoint, JWKS, pages), per client address. `off` disables.',
  },
  {
    env: 'SWITCHBOARD_TRUSTED_PROXIES',
    default: '(none)',
    description:
      'Comma-separated addresses or CIDRs of reverse proxies in front of Switchboard, e.g. `10.0.0.5,10.1.0.0/16`. A request from one of them is taken to come from the address its `X-Forwarded-For` names (the nearest hop not itself a trusted proxy), for per-address rate limits and the throttle of failed authentications. By default no proxy is trusted and the client is the connecting address; never list addresses clients can connect from.',
  },
  {
    env: 'SWITCHBOARD_AUTH_FREE_FAILURES',
    default: '5',
    description:
      'Failed authentications (wrong bearer token) a client address, or a credential guessed from many addresses, may make before further attempts get 429 with `Retry-After`: 1 s, doubling per further failure up to 15 minutes; one failure is forgiven per 15 minutes. See security.md.',
  },
  { env: 'SWITCHBOARD_MAX_HEADER_COUNT', default: '100', description: 'Most header fields a request may carry; more get 431.' },
  { env: 'SWITCHBOARD_MAX_HEADER_BYTES', default: '16384', description: 'Most bytes of a request line and headers together; more get 431.' },
  { env: 'SWITCHBOARD_CLIENT_HEADERS_TIMEOUT_MS', default: '10000', description: 'Time a client has to send its request headers (slow-client defence); then 408.' },
  {
    env: 'SWITCHBOARD_CLIENT_REQUEST_TIMEOUT_MS',
    default: '30000',
    description: 'Time a client has to send its whole request, body included; then 408. Responses (long polls, streams) are not limited by it.',
  },
];

function rate(env: Env, name: string, def: string): RateSpec | null {
  try {
    return parseRateSpec(env[name] || def);
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
}

function networks(env: Env, name: string): BlockList | null {
  const text = env[name]?.trim();
  if (!text) return null;
  try {
    return parseNetworks(text);
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
}

/** Reads the security settings; throws with the offending setting's name. */
export function loadSecurityConfig(env: Env): SecurityConfig {
  const publicUrl = env.SWITCHBOARD_PUBLIC_URL || undefined;
  if (publicUrl !== undefined) {
    let u: URL | null = null;
    try {
      u = new URL(publicUrl);
    } catch {
      /* reported below */
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new Error(`SWITCHBOARD_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  }
  let encryptionKeys: Buffer[];
  try {
    encryptionKeys = parseKeyRing(env.SWITCHBOARD_ENCRYPTION_KEY ?? '');
  } catch (e) {
    throw new Error(`SWITCHBOARD_ENCRYPTION_KEY: ${(e as Error).message}`);
  }
  return {
    publicUrl,
    encryptionKeys,
    oauthTokenTtlSeconds: int(env, 'SWITCHBOARD_OAUTH_TOKEN_TTL_SECONDS', 900, 60),
    rateLimits: {
      token: rate(env, 'SWITCHBOARD_RATE_LIMIT_TOKEN', '1000/2000'),
      app: rate(env, 'SWITCHBOARD_RATE_LIMIT_APP', '10000/20000'),
      health: rate(env, 'SWITCHBOARD_RATE_LIMIT_HEALTH', '50/100'),
      ingest: rate(env, 'SWITCHBOARD_RATE_LIMIT_INGEST', '1000/2000'),
      public: rate(env, 'SWITCHBOARD_RATE_LIMIT_PUBLIC', '50/200'),
    },
    trustedProxies: networks(env, 'SWITCHBOARD_TRUSTED_PROXIES'),
    authFreeFailures: int(env, 'SWITCHBOARD_AUTH_FREE_FAILURES', 5, 1),
    maxHeaderCount: int(env, 'SWITCHBOARD_MAX_HEADER_COUNT', 100, 10),
    maxHeaderBytes: int(env, 'SWITCHBOARD_MAX_HEADER_BYTES', 16384, 1024),
    clientHeadersTimeoutMs: int(env, 'SWITCHBOARD_CLIENT_HEADERS_TIMEOUT_MS', 10000, 100),
    clientRequestTimeoutMs: int(env, 'SWITCHBOARD_CLIENT_REQUEST_TIMEOUT_MS', 30000, 100),
  };
}
