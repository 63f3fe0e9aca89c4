/**
 * Ordered delivery: an endpoint's ordering settings (kept in reserved metadata keys, so the
 * official SDKs set and read them unchanged) and the ordering key of one message for one
 * endpoint. Pure: no I/O.
 *
 * Settings (endpoint metadata):
 *   `switchboard.ordering`               `pause` or `skip`: turns ordered delivery on and says
 *                                        what a delivery that exhausted its retries does to its key
 *   `switchboard.orderingKeyPath`        a dotted path into the payload, e.g. `data.order_id`
 *   `switchboard.orderingKeyTagPrefix`   a tag prefix, e.g. `order/` (tag `order/42` gives key `42`)
 *
 * A message's key is, first found: its explicit `orderingKey`, the payload value at the path
 * (a string, or a finite number written as text), the rest of its first tag with the prefix.
 * A message with none of them has no key and is delivered unordered.
 */
import type { Metadata } from './model.js';

/** What a delivery that failed for good does to its key: stop it, or let the next one go. */
export type OrderingPolicy = 'pause' | 'skip';

/** An ordered endpoint's settings. */
export interface OrderingConfig {
  policy: OrderingPolicy;
  /** Path segments into the payload, or null. */
  keyPath: string[] | null;
  tagPrefix: string | null;
}

/** The reserved metadata keys. */
export const ORDERING_METADATA = {
  policy: 'switchboard.ordering',
  keyPath: 'switchboard.orderingKeyPath',
  tagPrefix: 'switchboard.orderingKeyTagPrefix',
} as const;

/** The longest ordering key, explicit or derived (longer derived values are not keys). */
export const MAX_ORDERING_KEY_LENGTH = 256;

const POLICIES: readonly string[] = ['pause', 'skip'];
const PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

/** The endpoint's ordering settings, or null when its deliveries are unordered. */
export function orderingOf(metadata: Metadata): OrderingConfig | null {
  const policy = metadata[ORDERING_METADATA.policy];
  if (policy !== 'pause' && policy !== 'skip') return null;
  const path = metadata[ORDERING_METADATA.keyPath];
  const prefix = metadata[ORDERING_METADATA.tagPrefix];
  return {
    policy,
    keyPath: path && PATH.test(path) ? path.split('.') : null,
    tagPrefix: prefix ? prefix : null,
  };
}

/** Whether the endpoint asks for ordered delivery (cheap: one property read). */
export function isOrdered(metadata: Metadata): boolean {
  const policy = metadata[ORDERING_METADATA.policy];
  return policy === 'pause' || policy === 'skip';
}

/** Why the ordering settings in `metadata` are invalid (the metadata key and a reason), or null. */
export function orderingMetadataIssue(metadata: Metadata): { key: string; msg: string } | null {
  const policy = metadata[ORDERING_METADATA.policy];
  const path = metadata[ORDERING_METADATA.keyPath];
  const prefix = metadata[ORDERING_METADATA.tagPrefix];
  if (policy !== undefined && !POLICIES.includes(policy)) {
    return { key: ORDERING_METADATA.policy, msg: `must be "pause" or "skip", not "${policy}"` };
  }
  if (path !== undefined && !PATH.test(path)) {
    return { key: ORDERING_METADATA.keyPath, msg: 'must be a dotted path of names or indexes, e.g. "data.order_id"' };
  }
  if (prefix !== undefined && prefix.length === 0) return { key: ORDERING_METADATA.tagPrefix, msg: 'must not be empty' };
  if (policy === undefined && (path !== undefined || prefix !== undefined)) {
    return { key: ORDERING_METADATA.policy, msg: `is required ("pause" or "skip") when a key path or tag prefix is set` };
  }
  return null;
}

/** What a message contributes to its ordering key. */
export interface KeySource {
  orderingKey?: string | null | undefined;
  /** The payload as JSON text; null once expunged. */
  payload: string | null;
  tags: readonly string[] | null;
}

/** The message's ordering key for an endpoint with these settings, or null (unordered). */
export function orderingKeyOf(config: OrderingConfig, m: KeySource): string | null {
  if (m.orderingKey) return m.orderingKey;
  if (config.keyPath && m.payload !== null) {
    const v = valueAt(m.payload, config.keyPath);
    if (v !== null && v.length > 0 && v.length <= MAX_ORDERING_KEY_LENGTH) return v;
  }
  if (config.tagPrefix && m.tags) {
    for (const t of m.tags) {
      if (t.length > config.tagPrefix.length && t.startsWith(config.tagPrefix)) return t.slice(config.tagPrefix.length);
    }
  }
  return null;
}

/** The string or finite number at `path` in the JSON text, as text; null otherwise. */
function valueAt(payload: string, path: readonly string[]): string | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return null;
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(seg)) return null;
      v = v[Number(seg)];
    } else {
      if (!Object.hasOwn(v, seg)) return null;
      v = (v as Record<string, unknown>)[seg];
    }
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}
