/**
 * Files that hold data or keys are the owner's alone: directories 0700, files 0600. Modes
 * are set with chmod after creation, so they do not depend on the process umask, and files
 * an older version left readable are tightened on the next start.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Sets `mode` on `path`; a missing file, or one owned by another user (the operator's choice), is left as it is. */
function setMode(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (e: unknown) {
    const code = (e as { code?: string }).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw e;
  }
}

/** Creates the directory (and its parents) if needed, and makes it the owner's alone. */
export function makePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  setMode(path, PRIVATE_DIR_MODE);
}

/** Creates the file empty if it does not exist, and makes it the owner's alone (before anything is written to it). */
export function makePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  setMode(path, PRIVATE_FILE_MODE);
}

/** Makes the file the owner's alone if it exists. */
export function keepPrivate(path: string): void {
  setMode(path, PRIVATE_FILE_MODE);
}
