/** Schemas and helpers shared by the pull routes (polling endpoints, polls, streams, message list waits). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { Hold, PullService, PollResult } from '../../../bridges/pull/pull.js';
import { logFilterMatches } from '../../../bridges/pull/pull-filter.js';
import type { Message } from '../../../domain/model.js';
import type { PollerToken, PollingEndpoint, SequencedMessage } from '../../../storage/contract/pull.js';
import type { Page } from '../../../storage/contract/store.js';
import { etagOf } from '../../etag.js';
import { giveBackRateLimit } from '../../rate-limit.js';
import { messageOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { nameSchema } from '../../openapi.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** Longest long poll, in seconds. */
export const MAX_WAIT_SECONDS = 30;

/** `wait`: hold an empty answer up to this many seconds until a matching message arrives. */
export const waitQuery = { type: 'number', minimum: 0, maximum: MAX_WAIT_SECONDS } as const;

/** The header telling a poller how many seconds to wait before its next poll. */
export const POLL_INTERVAL_HEADER = 'x-poll-interval';

const id256 = { type: 'string', minLength: 1, maxLength: 256 } as const;
const eventTypeList = { type: ['array', 'null'], items: S.S.name256, maxItems: 1000 } as const;
const channelList = { type: ['array', 'null'], items: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9\\-_.:+]+$' }, maxItems: 10 } as const;

export const pollingEndpointParams = {
  type: 'object',
  required: ['app_id', 'polling_endpoint_id'],
  properties: { app_id: id256, polling_endpoint_id: id256 },
} as const;

export const pollerParams = { type: 'object', required: ['app_id', 'sink_id'], properties: { app_id: id256, sink_id: id256 } } as const;

export const consumerParams = {
  type: 'object',
  required: ['app_id', 'sink_id', 'consumer_id'],
  properties: { app_id: id256, sink_id: id256, consumer_id: id256 },
} as const;

export const tokenParams = { type: 'object', required: ['app_id', 'endpoint_id'], properties: { app_id: id256, endpoint_id: id256 } } as const;

export const pollingEndpointIn = {
  type: 'object',
  properties: {
    uid: { ...S.S.uid, type: ['string', 'null'] },
    description: { type: 'string', maxLength: 65536 },
    filterTypes: eventTypeList,
    channels: channelList,
    metadata: S.S.metadata,
  },
} as const;

export const pollingEndpointOut = {
  type: 'object',
  required: ['id', 'description', 'metadata', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    uid: { type: 'string' },
    description: { type: 'string' },
    filterTypes: { type: 'array', items: { type: 'string' } },
    channels: { type: 'array', items: { type: 'string' } },
    metadata: S.S.metadata,
    createdAt: S.S.dateTime,
    updatedAt: S.S.dateTime,
  },
} as const;

/** `PollingEndpointOut` of the compatible API: a page of messages and where to continue. */
export const pollOut = {
  type: 'object',
  required: ['data', 'iterator', 'done'],
  properties: { data: { type: 'array', items: S.messageOut }, iterator: { type: 'string' }, done: { type: 'boolean' } },
} as const;

export const apiTokenOut = {
  type: 'object',
  required: ['id', 'token', 'createdAt'],
  properties: { id: { type: 'string' }, token: { type: 'string' }, createdAt: S.S.dateTime, expiresAt: { type: ['string', 'null'], format: 'date-time' } },
} as const;

/** An SSE answer, as the OpenAPI document describes it. */
export const eventStreamOut = {
  type: 'string',
  description:
    'Server-Sent Events. The first event, named `position`, carries the start position as its `id:` and as `data:` (`{"position": ...}`). Each message is an event whose `id:` is its position (resume with `Last-Event-ID`) and whose `data:` is the message as JSON, `payload` last and exactly as stored. Comment lines are heartbeats.',
} as const;

nameSchema('PollingEndpointOut', pollOut);
nameSchema('ApiTokenOut', apiTokenOut);
nameSchema('PollingEndpointSettingsIn', pollingEndpointIn);
nameSchema('PollingEndpointSettingsOut', pollingEndpointOut);

export type PollingEndpointBody = FromSchema<typeof pollingEndpointIn>;

export function pollingEndpointOutOf(p: PollingEndpoint) {
  return {
    id: p.id,
    uid: p.uid ?? undefined,
    description: p.description,
    filterTypes: p.eventTypes ?? undefined,
    channels: p.channels ?? undefined,
    metadata: p.metadata,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function apiTokenOutOf(t: PollerToken) {
  return { id: t.id, token: t.token, createdAt: iso(t.createdAt), expiresAt: t.expiresAt === null ? null : iso(t.expiresAt) };
}

/** The polling endpoint a poller token is limited to, or null for other callers. */
export function pollerOf(req: FastifyRequest): string | null {
  return req.principal?.kind === 'poller' ? req.principal.pollerId : null;
}

/**
 * A long poll's hold: aborted when the client goes away, so the poll stops waiting for
 * nobody; a poll held waiting gets its rate-limit tokens back (see `giveBackRateLimit`).
 */
export function longPollHold(req: FastifyRequest, reply: FastifyReply): Hold {
  const ac = new AbortController();
  // A connection closing after its answer was sent is no reason (aborting costs an exception object per poll).
  reply.raw.once('close', () => {
    if (!reply.raw.writableEnded) ac.abort();
  });
  return { signal: ac.signal, onHeld: () => giveBackRateLimit(req) };
}

/**
 * Headers of a long-poll answer: the poll-interval hint, and during shutdown `Connection:
 * close`, so the answered connection does not hold the stopping server open.
 */
export function pollHeaders(reply: FastifyReply, pull: PullService, done: boolean): void {
  void reply.header(POLL_INTERVAL_HEADER, String(pull.pollInterval(done)));
  if (pull.isClosing) void reply.header('connection', 'close');
}

/** Messages as the API shows them, made once per message: long polls at one position share a read and its messages. */
const shown = new WeakMap<Message, ReturnType<typeof messageOut>>();
function shownMessage(m: Message): ReturnType<typeof messageOut> {
  let out = shown.get(m);
  if (!out) {
    out = messageOut(m);
    shown.set(m, out);
  }
  return out;
}

/**
 * Answers with messages, by the page of messages they carry. Polls woken together at one
 * position share one read, so its page (whose last position is the iterator and whose end
 * decides `done`) is encoded once, JSON and entity tag, and every answer writes those bytes.
 */
const encodedPages = new WeakMap<readonly SequencedMessage[], { body: Buffer; etag: string }>();

/** A poll answer with its headers. */
export function sendPoll(reply: FastifyReply, pull: PullService, r: PollResult) {
  pollHeaders(reply, pull, r.done);
  const page = () => ({ data: r.messages.map((m) => shownMessage(m.message)), iterator: r.iterator, done: r.done });
  if (r.messages.length === 0) return page();
  let encoded = encodedPages.get(r.messages);
  if (!encoded) {
    const body = Buffer.from(JSON.stringify(page()));
    encoded = { body, etag: etagOf(body) };
    encodedPages.set(r.messages, encoded);
  }
  void reply.header('etag', encoded.etag).type('application/json; charset=utf-8');
  return reply.send(encoded.body);
}

/** Seconds of `wait` to milliseconds. */
export const waitMs = (wait: number | undefined): number => Math.round((wait ?? 0) * 1000);

/**
 * The message list with `wait`: while the page is empty, holds the request until a message
 * passing the list's filters (event types, channel, tag) is published, then reads again.
 */
export function waitForMessages<T>(
  pull: PullService,
  req: FastifyRequest,
  reply: FastifyReply,
  appId: string,
  q: { eventTypes?: string[] | undefined; channel?: string | undefined; tag?: string | undefined },
  wait: number | undefined,
  read: () => Promise<Page<T>>,
): Promise<Page<T>> {
  if (!wait) return read();
  const filter = { eventTypes: q.eventTypes ?? null, channels: q.channel ? [q.channel] : null, tags: q.tag ? [q.tag] : null };
  return pull.waitFor(appId, (m) => logFilterMatches(filter, m), waitMs(wait), longPollHold(req, reply), read, (p) => p.data.length === 0, (p) => p.done).then((page) => {
    if (pull.isClosing) void reply.header('connection', 'close');
    return page;
  });
}
