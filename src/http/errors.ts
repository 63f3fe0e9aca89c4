/**
 * Error answers in the API's shape: `{"code", "detail"}`, or `{"detail": [issues]}` for a 422
 * that lists validation issues. The status of a code comes from the registry in
 * domain/errors.ts, so an answer cannot pair a code with the wrong status.
 */
import type { FastifyReply } from 'fastify';
import { ERRORS } from '../domain/errors.js';
import type { ErrorCode, ValidationIssue } from '../domain/errors.js';
import { STORAGE_FAULT_ANSWERS, storageFaultDetail } from '../storage/contract/storage-faults.js';
import type { StorageFault } from '../storage/contract/storage-faults.js';

/** The codes answered with 422: the only ones whose detail may be a list of issues. */
export type ValidationErrorCode = { [C in ErrorCode]: (typeof ERRORS)[C] extends 422 ? C : never }[ErrorCode];

/** What an error answer of `code` carries: a message, or validation issues for a 422 code. */
export type ErrorDetail<C extends ErrorCode> = C extends ValidationErrorCode ? string | ValidationIssue[] : string;

function write(reply: FastifyReply, status: number, code: string, detail: string | ValidationIssue[]): FastifyReply {
  return reply.code(status).type('application/json').send(status === 422 && Array.isArray(detail) ? { detail } : { code, detail });
}

/** Sends the error answer of `code`, with the status the registry gives it. */
export function sendError<C extends ErrorCode>(reply: FastifyReply, code: C, detail: ErrorDetail<C>): FastifyReply {
  return write(reply, ERRORS[code], code, detail);
}

/**
 * Sends a client error that Fastify or a plugin raised with a status of its own (405, 416,
 * ...), keeping that status under the generic code. The one answer whose status does not
 * come from the registry: the status was decided before the API saw the request.
 */
export function sendRaisedClientError(reply: FastifyReply, status: number, detail: string): FastifyReply {
  return write(reply, status, status === 404 ? 'not_found' : 'bad_request', detail);
}

/** Seconds a client is told to wait before retrying a write refused for a storage fault. */
export const STORAGE_RETRY_AFTER_SECONDS = 30;

/**
 * Sends the answer to a write refused for a storage fault; nothing of the request was stored.
 * `detail` replaces the usual one; `retryAfter: false` leaves `Retry-After` out (ingest URLs,
 * whose providers retry on their own schedule).
 */
export function sendStorageFault(reply: FastifyReply, fault: StorageFault, opts: { detail?: string; retryAfter?: boolean } = {}): FastifyReply {
  const a = STORAGE_FAULT_ANSWERS[fault.kind];
  if (opts.retryAfter !== false) reply.header('retry-after', String(STORAGE_RETRY_AFTER_SECONDS));
  return write(reply, a.status, a.code, opts.detail ?? storageFaultDetail(fault));
}
