/**
 * One broker connection reused by every batch of a sink: kept while it is usable, replaced by
 * a new one when it is not (one connect at a time, however many batches ask), dropped when a
 * batch fails on it, and ended when the transport closes.
 *
 * The transport supplies what differs between brokers: how to `connect`, whether a connection
 * is still `usable`, and how to `end` one (`graceful` on close; otherwise at once, when it is
 * dropped). Ending is best effort: its failures are ignored here.
 */
export interface ConnectionEnds<C> {
  connect: () => Promise<C>;
  usable: (c: C) => boolean;
  end: (c: C, graceful: boolean) => Promise<unknown> | void;
}

export class ReusedConnection<C> {
  private open: C | null = null;
  private opening: Promise<C> | null = null;

  constructor(private readonly ends: ConnectionEnds<C>) {}

  /** The connection in use, if any (null while a new one is being opened). */
  get current(): C | null {
    return this.open;
  }

  /** The open connection, or a new one (one at a time, however many batches ask). */
  async get(): Promise<C> {
    if (this.open && this.ends.usable(this.open)) return this.open;
    this.opening ??= this.replace().finally(() => (this.opening = null));
    return this.opening;
  }

  /** Drops `c` (the current connection by default) and ends it at once, in the background. */
  discard(c: C | null = this.open): void {
    if (c === null) return;
    if (this.open === c) this.open = null;
    try {
      const ending = this.ends.end(c, false);
      if (ending) ending.catch(() => {});
    } catch {
      // Already ended.
    }
  }

  /** Ends the current connection, or the one being opened, gracefully. */
  async close(): Promise<void> {
    const c = this.open ?? (await this.opening?.catch(() => null)) ?? null;
    this.open = null;
    if (c === null) return;
    try {
      await this.ends.end(c, true);
    } catch {
      // Best effort.
    }
  }

  private async replace(): Promise<C> {
    this.discard();
    const c = await this.ends.connect();
    this.open = c;
    return c;
  }
}
