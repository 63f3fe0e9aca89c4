/**
 * The data directory at start: it must be writable, else the server cannot keep anything and
 * does not start; the error names the directory and `serve` exits with its own code.
 */
import { accessSync, constants, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyStorageFault } from '../storage/contract/storage-faults.js';

/** The data directory cannot be written: the server cannot keep anything, so it does not start. */
export class UnwritableDataDirError extends Error {
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(
      `the data directory ${dir} is not writable (${reason}); Switchboard keeps its database, keys and admin token there. ` +
        'Mount it read-write, free space, or point SWITCHBOARD_DATA_DIR at a writable directory.',
    );
    this.name = 'UnwritableDataDirError';
  }
}

const UNWRITABLE: Readonly<Record<string, string>> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left',
  EDQUOT: 'disk quota exceeded',
};

/** `e` as an UnwritableDataDirError when it says `dir` cannot be written (a file error, or SQLite's read-only / cannot-open); else `e`. */
export function asUnwritableDataDir(dir: string, e: unknown): unknown {
  if (e instanceof UnwritableDataDirError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  if (UNWRITABLE[code]) return new UnwritableDataDirError(dir, UNWRITABLE[code]);
  const fault = classifyStorageFault(e);
  if (fault && (fault.kind === 'read_only' || fault.kind === 'full' || code.startsWith('SQLITE_CANTOPEN'))) return new UnwritableDataDirError(dir, `the database cannot be written: ${code}`);
  return e;
}

/**
 * Checks that files can be created in `dir` by creating and removing one (permission bits
 * alone do not tell: root ignores them, a read-only mount does not show in them).
 */
export function assertWritableDir(dir: string): void {
  const probe = join(dir, `.write-check-${process.pid}`);
  try {
    accessSync(dir, constants.W_OK);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e: unknown) {
    throw asUnwritableDataDir(dir, e);
  }
}
