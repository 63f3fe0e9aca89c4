/**
 * A progress bar on standard error for long operations (bulk resend, recover, import). It
 * draws only on a terminal; piped output stays clean for scripts.
 */

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class ProgressBar {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly enabled: boolean;

  constructor(
    private total: number,
    private readonly label: string,
    private readonly stream: ProgressStream = process.stderr,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? stream.isTTY === true;
    this.draw(true);
  }

  /** Counts `n` more items done. */
  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** Sets how many items are done (and, if it grew, the total). */
  update(done: number, total = this.total): void {
    this.done = done;
    this.total = Math.max(total, done);
    this.draw(false);
  }

  /** The bar's text at this moment. */
  render(): string {
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - 30));
    const ratio = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(ratio * width);
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${Math.round(ratio * 100)}% ${secs}s`;
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    // At most ~20 redraws a second, and always the final state.
    if (!force && this.done < this.total && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    this.stream.write('\r\x1b[2K' + this.render());
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (!this.enabled) return;
    this.draw(true);
    this.stream.write('\n');
  }
}
