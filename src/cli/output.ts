/** Output of the CLI: aligned tables for people, JSON with `--json` for scripts. */

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Longest cell shown; longer ones are cut with an ellipsis. */
  max?: number;
}

function cell(v: unknown, max: number): string {
  let s: string;
  if (v === undefined || v === null) s = '';
  else if (Array.isArray(v)) s = v.join(',');
  else if (typeof v === 'string') s = v;
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') s = v.toString();
  else s = JSON.stringify(v) ?? '';
  s = s.replace(/[\r\n\t]+/g, ' ');
  return s.length > max ? s.slice(0, Math.max(1, max - 1)) + '\u2026' : s;
}

/** Renders rows as a table with a header line; no rows gives `(none)`. */
export function table<T>(rows: readonly T[], columns: Column<T>[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r), c.max ?? 60)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (parts: string[]) => parts.map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!))).join('  ').trimEnd() + '\n';
  return line(columns.map((c) => c.header.toUpperCase())) + cells.map(line).join('');
}

/** Renders one object as `key: value` lines. */
export function record(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${(k + ':').padEnd(width + 1)} ${cell(obj[k], 10_000)}`).join('\n') + '\n';
}

/** Where the CLI writes; tests capture it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** Prints `value` as JSON with `--json`, else the human text. */
export function print(io: Io, json: boolean | undefined, value: unknown, human: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) + '\n' : human());
}
