/**
 * Another process holding a SQLite database's write lock (`BEGIN IMMEDIATE`), as a backup
 * tool or a second server on the same file would. It says `locked` once it holds the lock;
 * it gives the lock back after `releaseAfterMs` (then says `released`) or when its standard
 * input closes, and exits when its standard input closes.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SqliteLockHolder {
  child: ChildProcessWithoutNullStreams;
  /** The next line the holder prints: `locked`, then `released`. */
  next: () => Promise<string>;
  /** Gives the lock back (if still held) and waits for the process to exit. */
  stop: () => Promise<void>;
}

export function holdSqliteWriteLock(path: string, o: { releaseAfterMs?: number } = {}): SqliteLockHolder {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import Database from 'better-sqlite3';
       const db = new Database(process.argv[1]);
       db.exec('BEGIN IMMEDIATE');
       process.stdout.write('locked\\n');
       let held = true;
       const release = () => { if (!held) return; held = false; db.exec('ROLLBACK'); db.close(); process.stdout.write('released\\n'); };
       ${o.releaseAfterMs !== undefined ? `setTimeout(release, ${o.releaseAfterMs});` : ''}
       process.stdin.resume();
       process.stdin.on('end', () => { release(); process.exit(0); });`,
      path,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], cwd: process.cwd() },
  ) as unknown as ChildProcessWithoutNullStreams;
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    next: async () => String((await lines.next()).value),
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
