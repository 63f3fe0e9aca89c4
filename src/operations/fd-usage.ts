/**
 * File descriptors of this process: how many are open and the soft limit (Linux:
 * `/proc/self/fd` and `/proc/self/limits`). Elsewhere both are unknown (null) and callers
 * fall back to defaults.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** The soft limit of open files, or null when it cannot be read (not Linux, or unlimited). */
export function fdSoftLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line ? Number(line.slice('Max open files'.length).trim().split(/\s+/)[0]) : NaN;
    return Number.isInteger(soft) && soft > 0 ? soft : null;
  } catch {
    return null;
  }
}

/** Open file descriptors (sockets, files, pipes), or null when they cannot be counted. */
export function openFdCount(): number | null {
  try {
    // The listing itself opens one descriptor, which is not counted.
    return Math.max(0, readdirSync('/proc/self/fd').length - 1);
  } catch {
    return null;
  }
}
