/**
 * Advisory lock keys. Advisory locks are database-wide while a deployment's tables live in
 * one schema, so every key is derived from the schema's name: deployments (or test runs) in
 * other schemas of the same database never wait on each other's locks.
 *
 * - The migration lock is the single-key (int8) form: a hash of "migrate" and the schema;
 *   the partition lock (one node at a time creates or drops partitions of attempts and
 *   messages) likewise, a hash of "attempt partitions" and the schema (the name it had when
 *   only attempts were partitioned, so nodes of both versions share it).
 * - The per-endpoint claim lock (the cross-node caps of one endpoint are read and changed by
 *   one transaction at a time) is the two-key (int4, int4) form: the schema's lock space and
 *   a hash of the endpoint id. PostgreSQL keeps the two forms apart, so they never collide
 *   with each other; two endpoints whose ids hash alike only share a lock (more waiting,
 *   never a wrong count).
 *
 * An advisory lock lives in shared memory only: unlike `SELECT ... FOR UPDATE` on a row, it
 * writes nothing to the table or the WAL.
 */
import { createHash } from 'node:crypto';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The key of the lock every migration transaction of `schema` holds (a signed int8, as text). */
export function migrationLockKey(schema: string): string {
  return digest(`switchboard migrate ${schema}`).readBigInt64BE(0).toString();
}

/** The key of the lock a change of `schema`'s time partitions holds (a signed int8, as text). */
export function partitionLockKey(schema: string): string {
  return digest(`switchboard attempt partitions ${schema}`).readBigInt64BE(0).toString();
}

/** The first key of the per-endpoint claim locks of `schema` (a signed int4). */
export function claimLockSpace(schema: string): number {
  return digest(`switchboard claims ${schema}`).readInt32BE(0);
}

/** The second key of an endpoint's claim lock (a signed int4). */
export function endpointLockKey(endpointId: string): number {
  return digest(endpointId).readInt32BE(0);
}

/** The claim lock keys of `endpointIds`, distinct and ascending: the order every transaction takes them in. */
export function endpointLockKeys(endpointIds: Iterable<string>): number[] {
  return [...new Set([...endpointIds].map(endpointLockKey))].sort((a, b) => a - b);
}
