/**
 * Storage faults: errors that say the database cannot store writes (disk full, read-only,
 * I/O failure) rather than that a query or its input is wrong. Part of the contract: both
 * stores let such errors through as their driver raised them, and they are classified here —
 * SQLite by its result code, PostgreSQL by SQLSTATE — so the HTTP layer can answer 507/503
 * instead of 500 and the storage health can report why.
 *
 * Faults are also published on a diagnostics channel, scoped by the store of the instance
 * that met them (several instances may share a process, as in tests), so whoever catches one
 * (a route, ingest) can report it and the storage health hears of it.
 */
import { channel } from 'node:diagnostics_channel';

/**
 * Why writes fail: no space left, the database or its directory is read-only, the storage
 * fails or is out of resources, another process or session holds a lock the write needs, or
 * the database cancelled the statement before it finished.
 */
export type StorageFaultKind = 'full' | 'read_only' | 'io_error' | 'unavailable' | 'busy' | 'timeout';

export interface StorageFault {
  kind: StorageFaultKind;
  /** The database's own code: `SQLITE_FULL`, `SQLITE_IOERR_WRITE`, `53100`, ... */
  code: string;
  /** The database's message. */
  message: string;
}

/** SQLite result codes (better-sqlite3 gives the extended name, e.g. `SQLITE_IOERR_WRITE`). */
function sqliteKind(code: string): StorageFaultKind | null {
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_READONLY')) return 'read_only';
  if (code.startsWith('SQLITE_IOERR')) {
    // A write that failed for lack of space shows as an I/O error on some file systems.
    return code === 'SQLITE_IOERR_NOMEM' ? 'unavailable' : 'io_error';
  }
  if (code.startsWith('SQLITE_CANTOPEN')) return 'io_error';
  if (code === 'SQLITE_NOMEM') return 'unavailable';
  // Another connection (a second process on the same file) kept the write lock past busy_timeout.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  return null;
}

/** PostgreSQL SQLSTATEs of storage faults (class 53: insufficient resources; 58: system errors; 25006, 57P03, 55P03, 57014). */
const PG_KINDS: Readonly<Record<string, StorageFaultKind>> = {
  '53100': 'full', // disk_full
  '25006': 'read_only', // read_only_sql_transaction (a hot standby, default_transaction_read_only)
  '58030': 'io_error', // io_error
  '58000': 'io_error', // system_error
  '53000': 'unavailable', // insufficient_resources
  '53200': 'unavailable', // out_of_memory
  '53300': 'unavailable', // too_many_connections
  '53400': 'unavailable', // configuration_limit_exceeded
  '57P03': 'unavailable', // cannot_connect_now (starting up, recovering)
  '57P01': 'unavailable', // admin_shutdown (the session was terminated: a shutdown, pg_terminate_backend)
  '57P02': 'unavailable', // crash_shutdown (another session crashed and the server restarts)
  '08000': 'unavailable', // connection_exception
  '08001': 'unavailable', // sqlclient_unable_to_establish_sqlconnection
  '08003': 'unavailable', // connection_does_not_exist
  '08004': 'unavailable', // sqlserver_rejected_establishment_of_sqlconnection
  '08006': 'unavailable', // connection_failure
  '08007': 'unavailable', // transaction_resolution_unknown
  '55P03': 'busy', // lock_not_available (the node's lock_timeout, or one set on the role or database, ran out)
  '57014': 'timeout', // query_canceled (a statement_timeout set on the role or database ran out; pg_cancel_backend)
};

/**
 * postgres.js's own codes for a connection that closed under a query, or could not be opened
 * in time: distinct from any other library's, so they always mean the database.
 */
const PG_DRIVER_CODES: ReadonlySet<string> = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT']);

/**
 * The code of a request failed while it waited for a database connection, the database
 * having been unreachable for a while (`StoreLifecycle.failWaiting`): none of its queries was
 * sent, so nothing of it was stored.
 */
export const WAITED_UNREACHABLE = 'DATABASE_UNREACHABLE';

/**
 * Socket errors (a refused or reset connection, a host not found) are storage faults only
 * when the store marked them as its database's (`markDatabaseConnectionError`): a route may
 * meet the same codes on its own outbound connections.
 */
const SOCKET_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Codes after which a write may or may not have been committed: the connection was lost with
 * the transaction's COMMIT possibly on its way. Any other fault means nothing was stored.
 */
const IN_DOUBT_CODES: ReadonlySet<string> = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', '08007', 'ECONNRESET', 'EPIPE']);

const DATABASE_CONNECTION = Symbol('switchboard.databaseConnection');

/** Marks a socket error as met on the store's own database connection (see `SOCKET_CODES`). */
export function markDatabaseConnectionError(e: unknown): void {
  if (typeof e === 'object' && e !== null && !Object.isFrozen(e)) (e as Record<symbol, unknown>)[DATABASE_CONNECTION] = true;
}

function isMarkedDatabaseError(e: object): boolean {
  return (e as Record<symbol, unknown>)[DATABASE_CONNECTION] === true;
}

/** Node's own file errors met when writing beside the database (the WAL, the data directory). */
const FS_KINDS: Readonly<Record<string, StorageFaultKind>> = { ENOSPC: 'full', EDQUOT: 'full', EROFS: 'read_only', EIO: 'io_error' };

/** The storage fault an error is, or null for any other error. */
export function classifyStorageFault(e: unknown): StorageFault | null {
  if (typeof e !== 'object' || e === null) return null;
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof err.code === 'string' ? err.code : null;
  if (code === null) return null;
  const message = typeof err.message === 'string' ? err.message : '';
  const kind = code.startsWith('SQLITE_') ? sqliteKind(code) : (FS_KINDS[code] ?? PG_KINDS[code] ?? connectionKind(code, err));
  return kind ? { kind, code, message } : null;
}

/** A lost or refused connection to the database: 'unavailable'. */
function connectionKind(code: string, e: object): StorageFaultKind | null {
  if (PG_DRIVER_CODES.has(code) || code === WAITED_UNREACHABLE) return 'unavailable';
  if (SOCKET_CODES.has(code) && isMarkedDatabaseError(e)) return 'unavailable';
  return null;
}

/**
 * Answers to writes the database could not store, by why: 507 when the disk is full, 503 with
 * `Retry-After` while it is read-only, failing, out of resources, locked or too slow (these
 * usually pass: a failover, a restart, a long transaction that ends). Beside the domain's
 * registry of codes: they come from storage, not from a rule of the API.
 */
export const STORAGE_FAULT_ANSWERS = {
  full: { status: 507, code: 'insufficient_storage', why: 'the database has no space left' },
  read_only: { status: 503, code: 'storage_read_only', why: 'the database is read-only' },
  io_error: { status: 503, code: 'storage_io_error', why: 'the database storage failed a read or write' },
  unavailable: { status: 503, code: 'storage_unavailable', why: 'the database is unreachable or out of resources' },
  busy: { status: 503, code: 'storage_busy', why: 'another process or session holds a lock the write needs' },
  timeout: { status: 503, code: 'storage_timeout', why: 'the database cancelled the statement before it finished (a statement timeout, or a cancel)' },
} as const;

/** The detail of an answer refused for `fault`. */
export function storageFaultDetail(fault: StorageFault): string {
  const why = `${STORAGE_FAULT_ANSWERS[fault.kind].why} (${fault.code})`;
  if (IN_DOUBT_CODES.has(fault.code)) {
    return `${why}: the connection was lost while the request ran, so it may have been stored; retry later, with the same eventId if it must not be stored twice`;
  }
  return `${why}; nothing of this request was stored, retry later`;
}

/** A fault met by the instance whose store is `scope`. */
export interface StorageFaultEvent {
  scope: object;
  fault: StorageFault;
}

const faultChannel = channel('switchboard:storage-fault');

/** Classifies `e` and, when it is a storage fault, publishes it for `scope`'s storage health. */
export function reportStorageFault(scope: object, e: unknown): StorageFault | null {
  const fault = classifyStorageFault(e);
  if (fault && faultChannel.hasSubscribers) faultChannel.publish({ scope, fault } satisfies StorageFaultEvent);
  return fault;
}

/**
 * Subscribes to the faults of one instance — reported with its store or one of the store's
 * parts (`store.ingest`, ...) as the scope; returns the function that unsubscribes.
 */
export function onStorageFault(scopes: readonly object[], fn: (f: StorageFault) => void): () => void {
  const handler = (m: unknown): void => {
    const e = m as StorageFaultEvent;
    if (scopes.includes(e.scope)) fn(e.fault);
  };
  faultChannel.subscribe(handler);
  return () => faultChannel.unsubscribe(handler);
}
