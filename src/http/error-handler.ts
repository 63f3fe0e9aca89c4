/** Turns whatever a request throws, and requests no route takes, into error answers. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { ValidationIssue } from '../domain/errors.js';
import { reportStorageFault } from '../storage/contract/storage-faults.js';
import { sendError, sendRaisedClientError, sendStorageFault } from './errors.js';

/** Turns Ajv errors into `{loc, msg, type}` issues. */
function validationIssues(err: FastifyError): ValidationIssue[] {
  const ctx = err.validationContext;
  const where = ctx === 'querystring' ? 'query' : ctx === 'params' ? 'path' : ctx === 'headers' ? 'header' : (ctx ?? 'body');
  return (err.validation ?? []).map((v) => {
    const path = v.instancePath.split('/').filter(Boolean);
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    if (missing) path.push(missing);
    return { loc: [where, ...path.map((p) => (/^\d+$/.test(p) ? Number(p) : p))], msg: v.message ?? 'invalid value', type: `value_error.${v.keyword}` };
  });
}

/**
 * Installs the error and not-found handlers; `maxPayloadBytes` is named in 413 answers. A
 * storage fault (disk full, read-only, I/O error) is answered 507/503 and reported for
 * `storeScope`'s storage health.
 */
export function registerErrorHandlers(app: FastifyInstance, maxPayloadBytes: number, storeScope: object = app): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) {
      return sendError(reply, err.code, err.status === 422 && err.issues ? err.issues : err.message);
    }
    if (err.validation) return sendError(reply, 'validation', validationIssues(err));
    const status = err.statusCode ?? 500;
    if (status === 413) return sendError(reply, 'payload_too_large', `request body is larger than ${maxPayloadBytes} bytes`);
    if (status === 415) return sendError(reply, 'unsupported_media_type', 'send JSON with content-type: application/json');
    if (status === 400 && err.code?.startsWith('FST_ERR_CTP')) return sendError(reply, 'invalid_json', `request body is not valid JSON: ${err.message}`);
    if (status === 400 && err instanceof SyntaxError) return sendError(reply, 'invalid_json', `request body is not valid JSON: ${err.message}`);
    if (status >= 400 && status < 500) return sendRaisedClientError(reply, status, err.message);
    const fault = reportStorageFault(storeScope, err);
    if (fault) {
      // Logged once per change of state by the storage health, not once per refused request.
      req.log.debug({ storageFault: fault.kind, code: fault.code }, 'request refused: the database cannot store it');
      return sendStorageFault(reply, fault);
    }
    req.log.error({ err }, 'request failed');
    return sendError(reply, 'internal', 'internal error; the request id is ' + req.id);
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));
}
