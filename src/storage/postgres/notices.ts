/**
 * Cluster notices over LISTEN/NOTIFY. A write transaction queues its notices with
 * `pg_notify` so they are sent at commit and only if it commits; every node of one
 * deployment listens on its channel and ignores what it sent itself. Payloads are compact
 * JSON, split to stay under PostgreSQL's 8000-byte limit.
 *
 * Channels are database-wide while tables live in a schema, so the channel is named after
 * the schema: deployments (or test runs) in other schemas of the same database never hear
 * each other's notices.
 */
import { createHash } from 'node:crypto';
import type { ClusterNotice } from '../contract/cluster.js';

/**
 * The channel of the deployment whose tables are in `schema`: `switchboard_` and 16 hex
 * digits of the schema name's SHA-256, so any schema name gives a short, plain identifier.
 */
export function channelFor(schema: string): string {
  return 'switchboard_' + createHash('sha256').update(schema).digest('hex').slice(0, 16);
}

/** Largest payload sent (PostgreSQL refuses 8000 bytes and more). */
const MAX_PAYLOAD = 7500;

/**
 * A notice built here: every kind but `published`, whose entries only the publish statement
 * writes, in SQL (messages.ts), in the same wire format.
 */
export type EncodedNotice = Exclude<ClusterNotice, { kind: 'published' }>;

/** A published notice listing more endpoints than this lists none (receivers sweep instead). */
export const MAX_LISTED_ENDPOINTS = 100;

/**
 * For payloads built by SQL (the publish's, messages.ts): entries are grouped by their running
 * length, so a group holds at most this many bytes plus one entry (at most about 3,300 bytes:
 * `MAX_LISTED_ENDPOINTS` ids), which keeps it under `MAX_PAYLOAD`.
 */
export const SQL_GROUP_BYTES = 4000;

/** The start of every payload from `origin`: `{"o":origin,"n":[` then the entries and `]}`. */
export function payloadHead(origin: string): string {
  return `{"o":${JSON.stringify(origin)},"n":[`;
}

/** An entry: `p` published (application, message, endpoints left due or null), `d` due, `e` endpoints changed, `r` pollers changed. */
type Wire = ['p', string, string, string[] | null] | ['d', string[]] | ['e', string] | ['r', string];

function toWire(n: EncodedNotice): Wire[] {
  switch (n.kind) {
    case 'due': {
      const out: Wire[] = [];
      for (let i = 0; i < n.endpointIds.length; i += MAX_LISTED_ENDPOINTS) out.push(['d', n.endpointIds.slice(i, i + MAX_LISTED_ENDPOINTS)]);
      return out;
    }
    case 'endpoints-changed':
      return [['e', n.appId]];
    case 'pollers-changed':
      return [['r', n.appId]];
  }
}

function fromWire(w: Wire): ClusterNotice | null {
  if (w[0] === 'p') return { kind: 'published', appId: w[1], messageId: w[2], endpointIds: w[3] };
  if (w[0] === 'd') return { kind: 'due', endpointIds: w[1] };
  if (w[0] === 'e') return { kind: 'endpoints-changed', appId: w[1] };
  if (w[0] === 'r') return { kind: 'pollers-changed', appId: w[1] };
  return null;
}

/** Encodes notices from `origin` into as few payloads as fit the size limit. */
export function encodeNotices(origin: string, notices: EncodedNotice[]): string[] {
  const head = payloadHead(origin);
  const payloads: string[] = [];
  let parts: string[] = [];
  let size = head.length + 2;
  for (const n of notices) {
    for (const w of toWire(n)) {
      const s = JSON.stringify(w);
      if (parts.length > 0 && size + s.length + 1 > MAX_PAYLOAD) {
        payloads.push(head + parts.join(',') + ']}');
        parts = [];
        size = head.length + 2;
      }
      parts.push(s);
      size += s.length + 1;
    }
  }
  if (parts.length > 0) payloads.push(head + parts.join(',') + ']}');
  return payloads;
}

/** Decodes a payload; null for one this node sent or cannot read. */
export function decodeNotices(payload: string, self: string): ClusterNotice[] | null {
  let v: { o?: unknown; n?: unknown };
  try {
    v = JSON.parse(payload) as { o?: unknown; n?: unknown };
  } catch {
    return null;
  }
  if (v.o === self || !Array.isArray(v.n)) return null;
  const out: ClusterNotice[] = [];
  for (const w of v.n as Wire[]) {
    const n = Array.isArray(w) ? fromWire(w) : null;
    if (n) out.push(n);
  }
  return out;
}
