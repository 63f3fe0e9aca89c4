/** What the server decides about every sink's transport, beside the sink's own config. */
import type { BlockList } from 'node:net';
import type { Resolver } from '../../../engine/http-sender.js';
import { SinkDeliveryError } from '../sink-transport.js';

export interface SinkTransportOptions {
  /**
   * Networks a sink may reach despite the private-address guard (the server's allowed
   * networks, as for endpoints), checked each time a connection opens. Absent: no guard (a
   * test, or a trusted setup).
   */
  allowedNetworks?: BlockList;
  /** Name resolution for the guard; `dns.lookup` unless a test injects one. */
  resolve?: Resolver;
  /** How long one HTTP batch may take, in ms; 30 s by default. */
  httpTimeoutMs?: number;
  /** How long opening a broker connection may take, in ms; 5 s by default. */
  connectTimeoutMs?: number;
  /** How long a broker may take to confirm a batch, in ms; 30 s by default. */
  confirmTimeoutMs?: number;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_CONFIRM_TIMEOUT_MS = 30_000;

/** A required string field of a sink's config; throws a non-retryable SinkDeliveryError naming it. */
export function configString(config: Record<string, unknown>, type: string, field: string): string {
  const v = config[field];
  if (typeof v !== 'string' || v === '') throw new SinkDeliveryError(`${type} sink config needs "${field}" (a non-empty string)`, null, false);
  return v;
}

