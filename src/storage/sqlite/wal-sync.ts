/**
 * Makes committed WAL frames durable off the event loop.
 *
 * With `synchronous = FULL`, SQLite fsyncs the write-ahead log inside every commit, on the
 * calling thread: the whole process (HTTP parsing, deliveries) stands still for each fsync.
 * Hot-path commits instead run with `synchronous = NORMAL` (the frames reach the WAL file, in
 * order, without an fsync) and then call `sync()`, which fsyncs the WAL file on libuv's thread
 * pool. A commit is acknowledged only once a sync that started after it has finished, so an
 * acknowledged commit survives power loss exactly as with FULL.
 *
 * Rounds are coalesced: callers arriving while an fsync runs share the next one.
 * This holds because SQLite appends frames to one WAL file that stays open (and keeps its
 * inode) while any connection is open; after a checkpoint it rewrites that same file from the
 * start, and an fsync covers every frame written to it before the fsync began.
 */
import { close, fsync, openSync } from 'node:fs';

type Waiter = { resolve: () => void; reject: (e: unknown) => void };

export class WalSync {
  private fd: number | null = null;
  private running = false;
  private waiters: Waiter[] = [];
  private idle: (() => void) | null = null;

  constructor(private readonly walPath: string) {}

  /** Resolves once every WAL frame written before this call is on stable storage. */
  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.running) this.round();
    });
  }

  private round(): void {
    const batch = this.waiters;
    this.waiters = [];
    let fd: number;
    try {
      // Opened at the first sync: the WAL file exists once the first transaction committed.
      fd = this.fd ??= openSync(this.walPath, 'r');
    } catch (e: unknown) {
      for (const w of batch) w.reject(e);
      return;
    }
    this.running = true;
    fsync(fd, (err) => {
      this.running = false;
      for (const w of batch) {
        if (err) w.reject(err);
        else w.resolve();
      }
      if (this.waiters.length > 0) this.round();
      else this.idle?.();
    });
  }

  /** Waits for a running round, then closes the file. */
  async close(): Promise<void> {
    if (this.running) await new Promise<void>((r) => (this.idle = r));
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await new Promise<void>((r) => close(fd, () => r()));
  }
}
