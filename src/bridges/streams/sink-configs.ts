/**
 * Sink types and their configs: which types exist, what each config holds, the checks on
 * them (URI schemes per type, hosts through the same network guard as endpoint URLs), and
 * how a config is shown (passwords in URIs as `***`, keys left out) and kept (a masked value
 * sent back keeps the stored secret). `redis`, `natsJetStream` and `mqtt` are extensions of
 * this server; the reference SDK does not know them.
 */
import { maskUri } from '../../domain/uri-secrets.js';
import { AppError, invalid } from '../../domain/errors.js';

/** Types of the reference API that this server delivers to. */
export const REFERENCE_SINK_TYPES = ['poller', 'http', 'rabbitMq'] as const;
/** Types only this server has. */
export const EXTENSION_SINK_TYPES = ['redis', 'natsJetStream', 'mqtt'] as const;
export const SINK_TYPES: readonly string[] = [...REFERENCE_SINK_TYPES, ...EXTENSION_SINK_TYPES];

/** What a password in a URI is shown as. */

/** Checks a host may be reached (the endpoint URL guard); throws a 422 naming the setting otherwise. */
export type HostCheck = (host: string, loc: string[]) => Promise<void>;

type Config = Record<string, unknown>;

/** The URI field of each type and the schemes it takes. */
const URI_FIELDS: Record<string, { field: string; schemes: string[] }> = {
  http: { field: 'url', schemes: ['http', 'https'] },
  rabbitMq: { field: 'uri', schemes: ['amqp', 'amqps'] },
  redis: { field: 'uri', schemes: ['redis', 'rediss'] },
  natsJetStream: { field: 'url', schemes: ['nats', 'tls'] },
  mqtt: { field: 'url', schemes: ['mqtt', 'mqtts'] },
};

/** The field holding a type's destination URI (undefined for pollers). */
export const uriFieldOf = (type: string): string | undefined => URI_FIELDS[type]?.field;

export const isExtensionType = (type: string): boolean => (EXTENSION_SINK_TYPES as readonly string[]).includes(type);

/** A 422 for a type this server does not deliver to, naming the ones it does. */
export function checkSinkType(type: string): void {
  if (SINK_TYPES.includes(type)) return;
  throw invalid(['body', 'type'], `sink type '${type}' is not supported; supported types: ${SINK_TYPES.join(', ')}`, 'value_error.sink_type');
}


const text = (c: Config, key: string, loc: string[], required: boolean, max = 1024): string | undefined => {
  const v = c[key];
  if (v === undefined || v === null) {
    if (required) throw invalid([...loc, key], `config.${key} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw invalid([...loc, key], `config.${key} must be a non-empty string of at most ${max} characters`);
  return v;
};

async function checkUri(type: string, uri: string, loc: string[], checkHost: HostCheck): Promise<void> {
  const { schemes } = URI_FIELDS[type]!;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new AppError('invalid_url', `${loc.at(-1)} is not a valid absolute URI`, [{ loc, msg: 'invalid URI', type: 'value_error.url' }]);
  }
  const scheme = u.protocol.slice(0, -1);
  if (!schemes.includes(scheme)) {
    throw new AppError('invalid_url', `a ${type} sink needs a ${schemes.join(' or ')} URI`, [
      { loc, msg: `URI scheme must be ${schemes.join(' or ')}`, type: 'value_error.url.scheme' },
    ]);
  }
  if (!u.hostname) throw new AppError('invalid_url', `${loc.at(-1)} has no host`, [{ loc, msg: 'URI without a host', type: 'value_error.url' }]);
  await checkHost(u.hostname, loc);
}

/**
 * Checks a config of `type` and returns it as stored (defaults filled in, unknown fields
 * dropped). HTTP headers are returned apart: they are kept as the sink's headers.
 */
export async function normaliseSinkConfig(
  type: string,
  config: Config,
  checkHost: HostCheck,
): Promise<{ config: Config; headers?: Record<string, string> | undefined }> {
  checkSinkType(type);
  const loc = ['body', 'config'];
  const uriField = URI_FIELDS[type];
  if (uriField) await checkUri(type, text(config, uriField.field, loc, true, 2048)!, [...loc, uriField.field], checkHost);
  switch (type) {
    case 'poller':
      return { config: {} };
    case 'http': {
      const headers = config.headers;
      if (headers !== undefined && headers !== null) {
        if (typeof headers !== 'object' || Array.isArray(headers) || Object.values(headers).some((v) => typeof v !== 'string')) {
          throw invalid([...loc, 'headers'], 'config.headers must be an object of strings');
        }
      }
      const key = text(config, 'key', loc, false, 256);
      return {
        config: { url: config.url, ...(key !== undefined ? { key } : {}) },
        headers: (headers as Record<string, string> | null | undefined) ?? undefined,
      };
    }
    case 'rabbitMq':
      return { config: { uri: config.uri, routingKey: text(config, 'routingKey', loc, true, 255), exchange: text(config, 'exchange', loc, false, 255) ?? '' } };
    case 'redis': {
      const maxLen = config.maxLen ?? 10_000;
      if (typeof maxLen !== 'number' || !Number.isInteger(maxLen) || maxLen < 1 || maxLen > 100_000_000) throw invalid([...loc, 'maxLen'], 'config.maxLen must be an integer from 1');
      return { config: { uri: config.uri, streamKey: text(config, 'streamKey', loc, true, 512), maxLen } };
    }
    case 'natsJetStream':
      return { config: { url: config.url, subject: text(config, 'subject', loc, true, 512) } };
    default:
      return { config: { url: config.url, topic: text(config, 'topic', loc, true, 1024) } };
  }
}

/** The config as shown: URI passwords masked, `key` left out. */
export function publicSinkConfig(type: string, config: Config): Config {
  const out: Config = { ...config };
  delete out.key;
  const field = uriFieldOf(type);
  if (field && typeof out[field] === 'string') out[field] = maskUri(out[field]);
  return out;
}

/**
 * A config sent back for a sink: its URI, when it is the stored one masked, becomes the stored
 * one again, a `key` left out keeps the stored key, and a rabbitMq `exchange` left out keeps
 * the stored one (the svix SDK's RabbitMqConfig has no `exchange`, so an SDK round trip drops
 * it) — same type only.
 */
export function unmaskSinkConfig(type: string, incoming: Config, stored: { type: string; config: Config }): Config {
  if (type !== stored.type) return incoming;
  const out: Config = { ...incoming };
  const field = uriFieldOf(type);
  const storedUri = field ? stored.config[field] : undefined;
  if (field && typeof storedUri === 'string' && out[field] === maskUri(storedUri)) out[field] = storedUri;
  if (type === 'http' && out.key === undefined && stored.config.key !== undefined) out.key = stored.config.key;
  if (type === 'rabbitMq' && out.exchange === undefined && typeof stored.config.exchange === 'string' && stored.config.exchange !== '') out.exchange = stored.config.exchange;
  return out;
}
